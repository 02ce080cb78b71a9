# Terraform for the AWS side of Leasehold: the broker's role and the target roles it may assume.
# Commit the .terraform.lock.hcl that `terraform init` writes: it pins the provider's exact build.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # State records every role and policy; keep it in a remote backend with encryption and locking,
  # for example:
  # backend "s3" {
  #   bucket       = "example-terraform-state"
  #   key          = "leasehold/terraform.tfstate"
  #   region       = "eu-west-1"
  #   encrypt      = true
  #   use_lockfile = true
  # }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = var.tags
  }
}
