output "bucket_name" {
  description = "Name of the data bucket."
  value       = module.bucket.name
}

output "bucket_arn" {
  description = "ARN of the data bucket, for scoping read access."
  value       = module.bucket.arn
}
