variable "description" {
  description = "What the key encrypts, shown in the KMS console (e.g. \"Encrypts the images of the gridserve-staging ECR repository\")."
  type        = string

  validation {
    condition     = length(trimspace(var.description)) > 0 && length(var.description) <= 8192
    error_message = "description must say what the key encrypts, in at most 8192 characters."
  }
}

variable "alias_name" {
  description = "The key's alias, `alias/<service>/<name>` by the platform's convention (e.g. \"alias/ecr/gridserve-staging\")."
  type        = string

  validation {
    condition     = can(regex("^alias/[a-zA-Z0-9/_-]{1,250}$", var.alias_name)) && !startswith(var.alias_name, "alias/aws/")
    error_message = "alias_name must be alias/ followed by letters, digits, /, _ or - (not alias/aws/, which AWS reserves)."
  }
}

variable "deletion_window_days" {
  description = "Waiting period before the key is deleted after it is scheduled for deletion."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_days >= 7 && var.deletion_window_days <= 30
    error_message = "deletion_window_days must be between 7 and 30."
  }
}

variable "service_statements" {
  description = "Key policy statements after the account root's administration, each letting one AWS service use the key: its Sid (`sid`), the service principal (`service`), the KMS `actions` it may take, and the `condition` (IAM JSON: operator, then key, then value) that keeps it to this account's resources."
  type = list(object({
    sid       = string
    service   = string
    actions   = list(string)
    condition = map(map(string))
  }))
  default = []

  validation {
    condition = alltrue([
      for statement in var.service_statements :
      endswith(statement.service, ".amazonaws.com") && length(statement.condition) > 0 && length(statement.actions) > 0 && alltrue([for action in statement.actions : startswith(action, "kms:")])
    ])
    error_message = "each service statement names a service principal (*.amazonaws.com), at least one kms: action, and a condition scoping it to this account."
  }
}

variable "tags" {
  description = "Tags added to the key."
  type        = map(string)
  default     = {}
}
