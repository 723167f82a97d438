variable "name" {
  description = "Name prefix of the load balancer and its parts, e.g. `gridserve-staging`. Target groups are named `<name>-<route key>`, which AWS caps at 32 characters (checked at plan time)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name))
    error_message = "name must be 3-24 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "ID of the VPC the load balancer and its target groups belong to."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID such as vpc-0123456789abcdef0."
  }
}

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC; the load balancer may only open connections to targets inside it."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr_block, 0))
    error_message = "vpc_cidr_block must be a valid IPv4 CIDR block."
  }
}

variable "public_subnet_ids" {
  description = "IDs of the public subnets (at least two availability zones) the internet-facing load balancer is placed in."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "public_subnet_ids must list at least two subnets in different availability zones."
  }
}

variable "certificate_arn" {
  description = "ARN of the ACM certificate served by the HTTPS listener."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)."
  }
}

variable "ssl_policy" {
  description = "TLS security policy of the HTTPS listener; only TLS 1.2+ policies are accepted."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = can(regex("^ELBSecurityPolicy-(TLS13-1-[23]-|FS-1-2-|TLS-1-2-)", var.ssl_policy))
    error_message = "ssl_policy must be a TLS 1.2 or 1.3 ELB security policy, e.g. ELBSecurityPolicy-TLS13-1-2-2021-06."
  }
}

variable "ingress_cidr_blocks" {
  description = "IPv4 CIDR blocks allowed to reach the load balancer on ports 80 (redirect only) and 443."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.ingress_cidr_blocks) > 0 && alltrue([for cidr in var.ingress_cidr_blocks : can(cidrhost(cidr, 0))])
    error_message = "ingress_cidr_blocks must be a non-empty list of valid IPv4 CIDR blocks."
  }
}

variable "target_port" {
  description = "Port the targets (the service containers) listen on."
  type        = number
  default     = 8080

  validation {
    condition     = var.target_port >= 1 && var.target_port <= 65535
    error_message = "target_port must be a TCP port between 1 and 65535."
  }
}

variable "health_check_path" {
  description = "HTTP path the target groups health-check."
  type        = string
  default     = "/health"

  validation {
    condition     = startswith(var.health_check_path, "/")
    error_message = "health_check_path must start with a slash, e.g. /health."
  }
}

variable "routes" {
  description = "One target group per service and the listener rule that sends requests to it: path patterns (at most five, ALB syntax) and a unique rule priority. Requests matching no rule get a 404."
  type = map(object({
    path_patterns = list(string)
    priority      = number
  }))

  validation {
    condition     = length(var.routes) > 0 && alltrue([for route in values(var.routes) : length(route.path_patterns) >= 1 && length(route.path_patterns) <= 5])
    error_message = "routes must have at least one entry and each entry between one and five path_patterns."
  }

  validation {
    condition     = length(distinct([for route in values(var.routes) : route.priority])) == length(var.routes)
    error_message = "Every route must have its own priority."
  }

  validation {
    condition     = alltrue([for key in keys(var.routes) : can(regex("^[a-z][a-z0-9-]{0,15}$", key))])
    error_message = "Route keys name target groups: 1-16 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer through the API (turn off only to tear the environment down)."
  type        = bool
  default     = true
}

variable "idle_timeout_seconds" {
  description = "Seconds a connection may stay idle before the load balancer closes it."
  type        = number
  default     = 60

  validation {
    condition     = var.idle_timeout_seconds >= 1 && var.idle_timeout_seconds <= 4000
    error_message = "idle_timeout_seconds must be between 1 and 4000."
  }
}

variable "access_log_bucket_name" {
  description = "Name of the S3 bucket created for the load balancer's access logs (also the target of S3 server access logs of other buckets)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket_name))
    error_message = "access_log_bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "access_log_retention_days" {
  description = "Days access logs are kept in the log bucket."
  type        = number

  validation {
    condition     = var.access_log_retention_days >= 90 && var.access_log_retention_days <= 3650
    error_message = "access_log_retention_days must be between 90 and 3650."
  }
}

variable "waf_log_retention_days" {
  description = "Days the web ACL's request logs are kept in CloudWatch Logs."
  type        = number

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.waf_log_retention_days)
    error_message = "waf_log_retention_days must be a CloudWatch Logs retention value of at least one year (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests one client IP may send in five minutes before the web ACL blocks it."
  type        = number

  validation {
    condition     = var.waf_rate_limit_per_5_minutes >= 100
    error_message = "waf_rate_limit_per_5_minutes must be at least 100 (the AWS WAF minimum)."
  }
}

variable "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the web ACL's log group."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
