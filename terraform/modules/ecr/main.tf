# ECR uses the key through grants it creates when the repository is made, so the key policy
# names no service.
module "key" {
  source = "../kms-key"

  description          = "Encrypts the images of the ${var.name} ECR repository"
  alias_name           = "alias/ecr/${var.name}"
  deletion_window_days = var.key_deletion_window_days

  tags = var.tags
}

resource "aws_ecr_repository" "this" {
  name = var.name
  # Every tag is immutable except `latest`, which the pipeline moves on each release; deploys
  # and rollbacks use digests, so `latest` is only a convenience pointer.
  image_tag_mutability = "IMMUTABLE_WITH_EXCLUSION"
  force_delete         = false

  image_tag_mutability_exclusion_filter {
    filter      = "latest"
    filter_type = "WILDCARD"
  }

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = module.key.arn
  }

  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Keep the ${var.keep_image_count} most recent images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.keep_image_count
        }
        action = { type = "expire" }
      },
    ]
  })
}

# Promotion copies the digest staging tested into production's own repository, so production's
# deploy role must be able to read this one; nobody else outside the account can.
data "aws_iam_policy_document" "promotion_pull" {
  count = length(var.pull_principal_arns) > 0 ? 1 : 0

  statement {
    sid = "PromotionPull"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
    ]

    principals {
      type        = "AWS"
      identifiers = var.pull_principal_arns
    }
  }
}

resource "aws_ecr_repository_policy" "promotion_pull" {
  count = length(var.pull_principal_arns) > 0 ? 1 : 0

  repository = aws_ecr_repository.this.name
  policy     = data.aws_iam_policy_document.promotion_pull[0].json
}
