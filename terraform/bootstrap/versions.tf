terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }

  # Local state: this configuration creates the remote-state bucket, so it cannot keep its own
  # state there before it exists. Keep terraform.tfstate out of git (it is tiny and holds no
  # secrets); to move it into the bucket afterwards, add a backend "s3" block with
  # key = "bootstrap/terraform.tfstate" and run `terraform init -migrate-state`.
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Project   = "shazam"
      Component = "terraform-state"
      ManagedBy = "terraform"
    }
  }
}
