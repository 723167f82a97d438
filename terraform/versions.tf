terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
  }

  # Partial configuration: bucket, key, region and locking come from
  # `terraform init -backend-config=environments/<env>.s3.tfbackend` (see README.md), so no
  # account-specific name is written here and each environment keeps its own state.
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}
