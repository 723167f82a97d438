output "alarm_topic_arn" {
  description = "ARN of the SNS topic every alarm notifies (subscribe chat or paging integrations to it)."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of all alarms of the environment."
  value = concat(
    [aws_cloudwatch_metric_alarm.alb_5xx.alarm_name, aws_cloudwatch_metric_alarm.target_5xx.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.unhealthy_targets : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.service_cpu : alarm.alarm_name],
  )
}
