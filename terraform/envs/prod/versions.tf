terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }

  # Remote state, created by ../../bootstrap. The names are placeholders: replace them with the
  # bootstrap outputs, or keep them and pass the real ones at init time:
  #   terraform init -backend-config="bucket=<state_bucket>" -backend-config="dynamodb_table=<lock_table>"
  backend "s3" {
    bucket         = "shazam-terraform-state-123456789012" # replace: bootstrap output state_bucket
    key            = "envs/prod/terraform.tfstate"
    region         = "eu-west-1"
    dynamodb_table = "shazam-terraform-locks" # replace: bootstrap output lock_table
    encrypt        = true
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Project     = "shazam"
      Environment = local.environment
      ManagedBy   = "terraform"
    }
  }
}
