output "bucket_name" {
  description = "Name of the data bucket."
  value       = module.bucket.name
}

output "bucket_arn" {
  description = "ARN of the data bucket, for scoping read access."
  value       = module.bucket.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the data bucket; readers need kms:Decrypt on it."
  value       = aws_kms_key.this.arn
}
