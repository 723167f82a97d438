variable "bucket_name" {
  description = "Globally unique name of the S3 bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("\\.\\.", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "encryption" {
  description = "Default encryption of new objects: `{ sse_algorithm = \"aws:kms\", kms_key_arn = <customer-managed key> }` (SSE-KMS, bucket keys on), or `{ sse_algorithm = \"AES256\" }` (SSE-S3) only for a bucket an AWS service writes to that supports nothing else, such as load balancer access logs."
  type = object({
    sse_algorithm = string
    kms_key_arn   = optional(string)
  })

  validation {
    condition     = contains(["aws:kms", "AES256"], var.encryption.sse_algorithm)
    error_message = "encryption.sse_algorithm must be \"aws:kms\" (with kms_key_arn) or \"AES256\" (SSE-S3, without a key)."
  }

  validation {
    condition     = var.encryption.sse_algorithm == "AES256" ? var.encryption.kms_key_arn == null : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.encryption.kms_key_arn))
    error_message = "encryption.kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) with \"aws:kms\", and absent with \"AES256\"."
  }
}

variable "lifecycle_rule" {
  description = "The bucket's one lifecycle rule: its ID, days until current objects expire (null: never), days replaced or deleted versions are kept, and days before an unfinished multipart upload is aborted."
  type = object({
    id                                     = string
    expiration_days                        = optional(number)
    noncurrent_version_expiration_days     = number
    abort_incomplete_multipart_upload_days = number
  })

  validation {
    condition     = length(var.lifecycle_rule.id) > 0 && length(var.lifecycle_rule.id) <= 255
    error_message = "lifecycle_rule.id must be 1 to 255 characters."
  }

  validation {
    condition     = var.lifecycle_rule.expiration_days == null || try(var.lifecycle_rule.expiration_days >= 1 && var.lifecycle_rule.expiration_days <= 3650, false)
    error_message = "lifecycle_rule.expiration_days must be between 1 and 3650, or null to keep current objects."
  }

  validation {
    condition     = var.lifecycle_rule.noncurrent_version_expiration_days >= 1 && var.lifecycle_rule.noncurrent_version_expiration_days <= 3650
    error_message = "lifecycle_rule.noncurrent_version_expiration_days must be between 1 and 3650."
  }

  validation {
    condition     = var.lifecycle_rule.abort_incomplete_multipart_upload_days >= 1 && var.lifecycle_rule.abort_incomplete_multipart_upload_days <= 30
    error_message = "lifecycle_rule.abort_incomplete_multipart_upload_days must be between 1 and 30."
  }
}

variable "policy_documents" {
  description = "IAM policy documents (JSON) whose statements are added to the bucket policy, e.g. the grants of a service that writes to the bucket. The policy always denies requests not made over TLS 1.2+."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to the bucket."
  type        = map(string)
  default     = {}
}
