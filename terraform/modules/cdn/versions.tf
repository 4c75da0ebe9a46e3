terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0" # us-east-1: CloudFront's certificates and logs live there
    }
  }
}
