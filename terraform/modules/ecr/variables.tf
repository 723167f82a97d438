variable "name" {
  description = "Name of the ECR repository, e.g. `gridserve-staging`."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.name)) && length(var.name) <= 256
    error_message = "name must be a valid ECR repository name: lowercase letters, digits and . _ - / separators."
  }
}

variable "keep_image_count" {
  description = "How many of the most recent images the lifecycle policy keeps; older ones expire. Keep enough for the rollback targets of both services."
  type        = number

  validation {
    condition     = var.keep_image_count >= 5 && var.keep_image_count <= 1000 && floor(var.keep_image_count) == var.keep_image_count
    error_message = "keep_image_count must be a whole number between 5 and 1000 (fewer risks expiring an image a rollback still needs)."
  }
}

variable "key_deletion_window_days" {
  description = "Waiting period before the repository's KMS key is deleted after it is scheduled for deletion."
  type        = number
  default     = 30

  validation {
    condition     = var.key_deletion_window_days >= 7 && var.key_deletion_window_days <= 30
    error_message = "key_deletion_window_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}

variable "pull_principal_arns" {
  description = "IAM roles of other accounts' environments that promote images from this repository by digest (staging: production's deploy role). Empty: no repository policy, only this account pulls."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.pull_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "pull_principal_arns must be IAM role ARNs (arn:aws:iam::<account>:role/<name>); wildcards are not allowed."
  }
}
