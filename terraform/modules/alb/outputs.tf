output "arn" {
  description = "ARN of the load balancer."
  value       = aws_lb.this.arn
}

output "arn_suffix" {
  description = "ARN suffix of the load balancer, the `LoadBalancer` dimension of its CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}

output "dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "Route 53 hosted zone ID of the load balancer, for alias records."
  value       = aws_lb.this.zone_id
}

output "url" {
  description = "HTTPS base URL of the load balancer (its DNS name; point a DNS record matching the certificate at it for clients)."
  value       = "https://${aws_lb.this.dns_name}"
}

output "security_group_id" {
  description = "ID of the load balancer's security group; services allow their port from it only."
  value       = aws_security_group.alb.id
}

output "target_group_arns" {
  description = "Target group ARN per route key (service)."
  value       = { for key, group in aws_lb_target_group.this : key => group.arn }
}

output "target_group_arn_suffixes" {
  description = "Target group ARN suffix per route key, the `TargetGroup` dimension of its CloudWatch metrics."
  value       = { for key, group in aws_lb_target_group.this : key => group.arn_suffix }
}

output "https_listener_arn" {
  description = "ARN of the HTTPS listener."
  value       = aws_lb_listener.https.arn
}

output "access_log_bucket_name" {
  description = "Name of the access log bucket (load balancer logs under `alb/`, S3 server access logs under `s3/`)."
  value       = var.access_log_bucket_name

  # Whoever uses the name (S3 server access logging of other buckets) waits for the bucket and
  # its log-delivery policy. The name itself comes from the input: checkov cannot follow a nested
  # module's output into another module and would leave the data bucket's checks unevaluated
  # (tests/test_gates.py fails then).
  depends_on = [module.access_log_bucket]
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL protecting the load balancer."
  value       = aws_wafv2_web_acl.this.arn
}
