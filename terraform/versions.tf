terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }

  # Remote state, created by ./bootstrap; one state per environment. Partial configuration: the
  # settings come from env/<env>.backend.hcl at init time (re-run init when switching):
  #   terraform init -reconfigure -backend-config=env/dev.backend.hcl
  backend "s3" {}
}

provider "aws" {
  region              = var.region
  allowed_account_ids = var.allowed_account_ids
  default_tags {
    tags = {
      Project     = "shazam"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

# CloudFront's certificate and access logs live in us-east-1, whatever the environment's region.
provider "aws" {
  alias               = "us_east_1"
  region              = "us-east-1"
  allowed_account_ids = var.allowed_account_ids
  default_tags {
    tags = {
      Project     = "shazam"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
