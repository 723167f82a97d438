variable "name" {
  description = "Name prefix of the alarms and the alarm topic, e.g. `gridserve-staging`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (`app/<name>/<id>`), its CloudWatch `LoadBalancer` dimension."
  type        = string

  validation {
    condition     = can(regex("^app/.+/.+$", var.alb_arn_suffix))
    error_message = "alb_arn_suffix must look like app/<name>/<id>."
  }
}

variable "target_group_arn_suffixes" {
  description = "ARN suffix (`targetgroup/<name>/<id>`) of each service's target group, keyed by service."
  type        = map(string)

  validation {
    condition     = length(var.target_group_arn_suffixes) > 0 && alltrue([for suffix in values(var.target_group_arn_suffixes) : can(regex("^targetgroup/.+/.+$", suffix))])
    error_message = "target_group_arn_suffixes must map each service to a suffix like targetgroup/<name>/<id>."
  }
}

variable "cluster_name" {
  description = "Name of the ECS cluster, the `ClusterName` dimension of the service CPU metrics."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,255}$", var.cluster_name))
    error_message = "cluster_name must be 1-255 letters, digits, hyphens or underscores."
  }
}

variable "service_names" {
  description = "ECS service name of each service, keyed like `target_group_arn_suffixes`."
  type        = map(string)

  validation {
    condition     = length(var.service_names) > 0
    error_message = "service_names must name at least one service."
  }
}

variable "alb_5xx_threshold" {
  description = "5xx responses (from the load balancer itself, and separately from the targets) in five minutes that raise an alarm."
  type        = number

  validation {
    condition     = var.alb_5xx_threshold >= 1
    error_message = "alb_5xx_threshold must be at least 1."
  }
}

variable "cpu_threshold_percent" {
  description = "Average service CPU utilisation over fifteen minutes that raises an alarm (set it above the autoscaling target)."
  type        = number

  validation {
    condition     = var.cpu_threshold_percent > 0 && var.cpu_threshold_percent <= 100
    error_message = "cpu_threshold_percent must be between 1 and 100."
  }
}

variable "alarm_email_addresses" {
  description = "Email addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for address in var.alarm_email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "alarm_email_addresses must contain only email addresses."
  }
}

variable "key_deletion_window_days" {
  description = "Waiting period before the alarm topic's KMS key is deleted after it is scheduled for deletion."
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
