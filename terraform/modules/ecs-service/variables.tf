variable "name" {
  description = "Name of the ECS service and of its task definition family, e.g. `gridserve-staging-tiles`."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_-]{0,254}$", var.name))
    error_message = "name must be 1-255 letters, digits, hyphens or underscores, starting with a letter."
  }
}

variable "app_role" {
  description = "Which half of the application this service runs; passed to the container as GRIDSERVE_ROLE."
  type        = string

  validation {
    condition     = contains(["tiles", "timeseries"], var.app_role)
    error_message = "app_role must be \"tiles\" or \"timeseries\" (the roles the gridserve application knows)."
  }
}

variable "region" {
  description = "AWS region, for the awslogs log driver."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region code such as ap-southeast-2."
  }
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster the service runs in."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/.+$", var.cluster_arn))
    error_message = "cluster_arn must be an ECS cluster ARN."
  }
}

variable "cluster_name" {
  description = "Name of the ECS cluster, for the autoscaling resource ID."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,255}$", var.cluster_name))
    error_message = "cluster_name must be 1-255 letters, digits, hyphens or underscores."
  }
}

variable "container_name" {
  description = "Name of the application container in the task definition; the pipeline swaps the image of exactly this container."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$", var.container_name))
    error_message = "container_name must be 1-255 letters, digits, hyphens or underscores."
  }
}

variable "image" {
  description = "Image of the first task definition revision. After creation the pipeline registers new revisions and Terraform ignores the task definition of the service."
  type        = string

  validation {
    condition     = can(regex("^[^\\s]+(:[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})$", var.image))
    error_message = "image must be a full image reference with a tag or digest, e.g. <repository-url>:bootstrap."
  }
}

variable "container_port" {
  description = "Port the application listens on inside the container."
  type        = number
  default     = 8080

  validation {
    condition     = var.container_port >= 1024 && var.container_port <= 65535
    error_message = "container_port must be between 1024 and 65535 (the container runs as a non-root user, which cannot bind lower ports)."
  }
}

variable "container_user" {
  description = "Numeric `uid:gid` the container runs as; must not be root."
  type        = string
  default     = "10001:10001"

  validation {
    condition     = can(regex("^[1-9][0-9]*(:[1-9][0-9]*)?$", var.container_user))
    error_message = "container_user must be a non-zero numeric uid or uid:gid (never root), e.g. 10001:10001."
  }
}

variable "health_check_path" {
  description = "HTTP path of the application's health endpoint, probed by the container health check."
  type        = string
  default     = "/health"

  validation {
    condition     = can(regex("^/[A-Za-z0-9/_.-]*$", var.health_check_path))
    error_message = "health_check_path must be an absolute URL path such as /health."
  }
}

variable "environment" {
  description = "Extra plain (non-secret) environment variables of the container. GRIDSERVE_ROLE is set from `app_role` and cannot be overridden here."
  type        = map(string)
  default     = {}

  validation {
    condition     = !contains(keys(var.environment), "GRIDSERVE_ROLE")
    error_message = "Set the service role with app_role, not with environment[\"GRIDSERVE_ROLE\"]."
  }
}

variable "cpu" {
  description = "Fargate task CPU units (256 = 0.25 vCPU)."
  type        = number

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "memory" {
  description = "Fargate task memory in MiB; must be a valid combination with `cpu`."
  type        = number

  validation {
    condition     = var.memory >= 512 && var.memory <= 122880 && var.memory % 512 == 0
    error_message = "memory must be a multiple of 512 MiB between 512 and 122880, valid for the chosen cpu."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image (X86_64 or ARM64)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "execution_role_arn" {
  description = "ARN of the task execution role (image pull, logs)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.execution_role_arn))
    error_message = "execution_role_arn must be an IAM role ARN."
  }
}

variable "task_role_arn" {
  description = "ARN of the task role the application runs with."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.task_role_arn))
    error_message = "task_role_arn must be an IAM role ARN."
  }
}

variable "vpc_id" {
  description = "ID of the VPC of the service's security group."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID such as vpc-0123456789abcdef0."
  }
}

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC; tasks may open HTTPS connections only inside it (interface endpoints) and to S3."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr_block, 0))
    error_message = "vpc_cidr_block must be a valid IPv4 CIDR block."
  }
}

variable "s3_prefix_list_id" {
  description = "Prefix list ID of the VPC's S3 gateway endpoint, so tasks can reach S3 (data and ECR image layers)."
  type        = string

  validation {
    condition     = can(regex("^pl-[0-9a-f]+$", var.s3_prefix_list_id))
    error_message = "s3_prefix_list_id must be a prefix list ID such as pl-6ca54005."
  }
}

variable "private_subnet_ids" {
  description = "IDs of the private subnets the tasks are placed in (no public IPs)."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids must list at least two subnets in different availability zones."
  }
}

variable "alb_security_group_id" {
  description = "ID of the load balancer's security group, the only source allowed to reach the container port."
  type        = string

  validation {
    condition     = can(regex("^sg-[0-9a-f]+$", var.alb_security_group_id))
    error_message = "alb_security_group_id must be a security group ID such as sg-0123456789abcdef0."
  }
}

variable "target_group_arn" {
  description = "ARN of the load balancer target group the service registers its tasks in."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/.+$", var.target_group_arn))
    error_message = "target_group_arn must be an ELB target group ARN."
  }
}

variable "desired_count" {
  description = "Number of tasks when the service is created; autoscaling owns it afterwards."
  type        = number

  validation {
    condition     = var.desired_count >= 1 && floor(var.desired_count) == var.desired_count
    error_message = "desired_count must be a whole number of at least 1."
  }
}

variable "min_capacity" {
  description = "Fewest tasks autoscaling may run."
  type        = number

  validation {
    condition     = var.min_capacity >= 1 && floor(var.min_capacity) == var.min_capacity
    error_message = "min_capacity must be a whole number of at least 1."
  }
}

variable "max_capacity" {
  description = "Most tasks autoscaling may run; must not be below `min_capacity` (checked at plan time)."
  type        = number

  validation {
    condition     = var.max_capacity >= 1 && var.max_capacity <= 100 && floor(var.max_capacity) == var.max_capacity
    error_message = "max_capacity must be a whole number between 1 and 100."
  }
}

variable "cpu_target_percent" {
  description = "Average service CPU utilisation that target-tracking autoscaling aims for."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_target_percent >= 10 && var.cpu_target_percent <= 90
    error_message = "cpu_target_percent must be between 10 and 90."
  }
}

variable "health_check_grace_period_seconds" {
  description = "Seconds after a task starts during which failing load balancer health checks are ignored (the app loads its dataset first)."
  type        = number
  default     = 60

  validation {
    condition     = var.health_check_grace_period_seconds >= 0 && var.health_check_grace_period_seconds <= 2147483647
    error_message = "health_check_grace_period_seconds must be between 0 and 2147483647."
  }
}

variable "log_group_name" {
  description = "Name of the CloudWatch Logs group for the container's output (the deploy role reads it for failure reports)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_/.#-]{1,512}$", var.log_group_name))
    error_message = "log_group_name must be 1-512 characters of letters, digits and _ / . # -."
  }
}

variable "log_retention_days" {
  description = "Days container logs are kept."
  type        = number

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value of at least one year (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the container log group."
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
