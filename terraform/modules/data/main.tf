module "bucket" {
  source = "../s3-bucket"

  bucket_name = var.bucket_name
  encryption  = { sse_algorithm = "aws:kms", kms_key_arn = var.kms_key_arn }

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
