variable "environment" {
  description = "Deployment environment this root module instance builds; also the GitHub environment trusted by default."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be \"staging\" or \"production\"."
  }
}

variable "region" {
  description = "AWS region of every resource."
  type        = string
  default     = "ap-southeast-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region code such as ap-southeast-2."
  }
}

variable "project" {
  description = "Short project name, the first part of every resource name (`<project>-<environment>`); at most 10 characters."
  type        = string
  default     = "gridserve"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,9}$", var.project))
    error_message = "project must be 2-10 lowercase letters, digits or hyphens, starting with a letter (names derived from it have AWS length limits: <project>-production-timeseries must fit a 32-character target group name)."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the environment's VPC."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be a valid IPv4 CIDR block of /20 or larger, e.g. 10.40.0.0/16."
  }
}

variable "availability_zones" {
  description = "Availability zones (two to four, e.g. ap-southeast-2a) the network, load balancer and services span."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list two to four distinct zones."
  }

  validation {
    condition     = alltrue([for az in var.availability_zones : startswith(az, var.region)])
    error_message = "Every zone in availability_zones must belong to region (e.g. ap-southeast-2a for ap-southeast-2)."
  }
}

variable "single_nat_gateway" {
  description = "One shared NAT gateway (cheaper) instead of one per availability zone (survives the loss of a zone)."
  type        = bool
}

variable "certificate_arn" {
  description = "ARN of the ACM certificate (in `region`) served by the load balancer's HTTPS listener."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)."
  }
}

variable "github_repository" {
  description = "GitHub repository (`owner/name`) whose deploy jobs may assume the deploy role."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be `owner/name`, e.g. example-org/scidata-platform."
  }
}

variable "github_environments" {
  description = "GitHub environments whose jobs may assume this environment's deploy role."
  type        = list(string)

  validation {
    condition     = length(var.github_environments) > 0 && alltrue([for env in var.github_environments : can(regex("^[A-Za-z0-9._-]{1,255}$", env))])
    error_message = "github_environments must list at least one GitHub environment name (letters, digits, . _ -); wildcards are not allowed."
  }
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub Actions OIDC provider here. When both environments share an AWS account, only one of them may create it; the other sets this to false and passes `github_oidc_provider_arn`."
  type        = bool
}

variable "github_oidc_provider_arn" {
  description = "ARN of the existing GitHub Actions OIDC provider, when `create_github_oidc_provider` is false."
  type        = string
  default     = null

  validation {
    condition     = var.github_oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.github_oidc_provider_arn))
    error_message = "github_oidc_provider_arn must be the ARN of the token.actions.githubusercontent.com OIDC provider."
  }
}

variable "ecr_keep_image_count" {
  description = "How many recent images the ECR lifecycle policy keeps."
  type        = number

  validation {
    condition     = var.ecr_keep_image_count >= 5 && var.ecr_keep_image_count <= 1000
    error_message = "ecr_keep_image_count must be between 5 and 1000."
  }
}

variable "bootstrap_image_tag" {
  description = "Tag of the image the first task definitions point at, before the pipeline deploys its own build."
  type        = string
  default     = "bootstrap"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.bootstrap_image_tag))
    error_message = "bootstrap_image_tag must be a valid image tag (letters, digits, _ . -; at most 128)."
  }
}

variable "services" {
  description = "Size and capacity of the two services, keyed `tiles` and `timeseries`: Fargate cpu units and memory (MiB), the task count at creation and the autoscaling bounds."
  type = map(object({
    cpu           = number
    memory        = number
    desired_count = number
    min_capacity  = number
    max_capacity  = number
  }))

  validation {
    condition     = length(var.services) == 2 && contains(keys(var.services), "tiles") && contains(keys(var.services), "timeseries")
    error_message = "services must have exactly the keys \"tiles\" and \"timeseries\"."
  }

  validation {
    condition     = alltrue([for service in values(var.services) : service.min_capacity <= service.desired_count && service.desired_count <= service.max_capacity])
    error_message = "For every service, min_capacity <= desired_count <= max_capacity."
  }
}

variable "cpu_target_percent" {
  description = "Average CPU utilisation the services' target-tracking autoscaling aims for."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_target_percent >= 10 && var.cpu_target_percent <= 90
    error_message = "cpu_target_percent must be between 10 and 90."
  }
}

variable "health_check_grace_period_seconds" {
  description = "Seconds load balancer health checks are ignored after a task starts."
  type        = number
  default     = 60

  validation {
    condition     = var.health_check_grace_period_seconds >= 0 && var.health_check_grace_period_seconds <= 1800
    error_message = "health_check_grace_period_seconds must be between 0 and 1800."
  }
}

variable "app_environment" {
  description = "Extra plain environment variables for both services' containers (e.g. GRIDSERVE_COLLECTIONS). Never secrets: they are visible in the task definition."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key in keys(var.app_environment) : can(regex("^GRIDSERVE_[A-Z0-9_]+$", key)) && key != "GRIDSERVE_ROLE"])
    error_message = "app_environment keys must be GRIDSERVE_* settings other than GRIDSERVE_ROLE (each service sets its own role)."
  }
}

variable "log_retention_days" {
  description = "Days container, VPC flow and WAF logs are kept in CloudWatch Logs."
  type        = number

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value of at least one year (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "access_log_retention_days" {
  description = "Days load balancer and S3 access logs are kept in the log bucket."
  type        = number

  validation {
    condition     = var.access_log_retention_days >= 90 && var.access_log_retention_days <= 3650
    error_message = "access_log_retention_days must be between 90 and 3650."
  }
}

variable "data_noncurrent_version_retention_days" {
  description = "Days replaced versions of data objects are kept (the undo window for a bad data load)."
  type        = number

  validation {
    condition     = var.data_noncurrent_version_retention_days >= 1 && var.data_noncurrent_version_retention_days <= 3650
    error_message = "data_noncurrent_version_retention_days must be between 1 and 3650."
  }
}

variable "alb_deletion_protection" {
  description = "Protect the load balancer from deletion (turn off only to tear the environment down)."
  type        = bool
  default     = true
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests one client IP may send in five minutes before the web ACL blocks it."
  type        = number

  validation {
    condition     = var.waf_rate_limit_per_5_minutes >= 100
    error_message = "waf_rate_limit_per_5_minutes must be at least 100."
  }
}

variable "alb_5xx_alarm_threshold" {
  description = "5xx responses in five minutes that raise the load balancer and target 5xx alarms."
  type        = number

  validation {
    condition     = var.alb_5xx_alarm_threshold >= 1
    error_message = "alb_5xx_alarm_threshold must be at least 1."
  }
}

variable "cpu_alarm_threshold_percent" {
  description = "Average service CPU over fifteen minutes that raises the CPU alarm."
  type        = number

  validation {
    condition     = var.cpu_alarm_threshold_percent > 0 && var.cpu_alarm_threshold_percent <= 100
    error_message = "cpu_alarm_threshold_percent must be between 1 and 100."
  }
}

variable "alarm_email_addresses" {
  description = "Email addresses subscribed to the environment's alarm topic."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for address in var.alarm_email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "alarm_email_addresses must contain only email addresses."
  }
}

variable "key_deletion_window_days" {
  description = "Waiting period of every KMS key of the environment between scheduling its deletion and deleting it."
  type        = number
  default     = 30

  validation {
    condition     = var.key_deletion_window_days >= 7 && var.key_deletion_window_days <= 30
    error_message = "key_deletion_window_days must be between 7 and 30."
  }
}

variable "promote_from_repository_arn" {
  description = "ARN of the ECR repository whose tested images this environment's releases copy by digest (production: staging's repository). Null: this environment's releases are built and pushed here (staging)."
  type        = string
  default     = null
}

variable "promotion_pull_principal_arns" {
  description = "Deploy roles of environments in other accounts that promote from this environment's repository (staging: production's deploy role ARN). Same-account promotion needs none."
  type        = list(string)
  default     = []
}
