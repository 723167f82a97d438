output "arn" {
  description = "ARN of the key, for encryption settings and the IAM policies of its users."
  value       = aws_kms_key.this.arn
}
