data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

resource "aws_kms_key" "this" {
  description             = "Encrypts the objects of the ${var.bucket_name} data bucket"
  deletion_window_in_days = var.key_deletion_window_days
  enable_key_rotation     = true

  # Readers get kms:Decrypt through their own IAM policies; the key policy only delegates to IAM.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/s3/${var.bucket_name}"
  target_key_id = aws_kms_key.this.key_id
}

module "bucket" {
  source = "../s3-bucket"

  bucket_name = var.bucket_name
  encryption  = { sse_algorithm = "aws:kms", kms_key_arn = aws_kms_key.this.arn }

  # Data objects stay until replaced; replaced versions are the undo window of a bad data load.
  lifecycle_rule = {
    id                                     = "expire-noncurrent-versions"
    noncurrent_version_expiration_days     = var.noncurrent_version_retention_days
    abort_incomplete_multipart_upload_days = 7
  }

  tags = var.tags
}

resource "aws_s3_bucket_logging" "this" {
  bucket        = module.bucket.name
  target_bucket = var.access_log_bucket_name
  target_prefix = "s3/${var.bucket_name}/"
}
