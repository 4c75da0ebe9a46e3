output "dagster_role_arn" {
  description = "Value of the eks.amazonaws.com/role-arn annotation of the dagster service account."
  value       = aws_iam_role.dagster.arn
}

output "dagster_role_name" {
  description = "Name of the Dagster IRSA role."
  value       = aws_iam_role.dagster.name
}

output "service_account" {
  description = "namespace/name the role trusts."
  value       = "${var.namespace}/${var.service_account}"
}

output "cloudwatch_exporter_role_arn" {
  description = "Value of the eks.amazonaws.com/role-arn annotation of the CloudWatch exporter's service account."
  value       = aws_iam_role.cloudwatch_exporter.arn
}

output "studio_role_arn" {
  description = "Value of the eks.amazonaws.com/role-arn annotation of the studio's service account."
  value       = aws_iam_role.studio.arn
}

output "serve_role_arn" {
  description = "Value of the eks.amazonaws.com/role-arn annotation of the search service's service account."
  value       = aws_iam_role.serve.arn
}

output "alb_controller_role_arn" {
  description = "Value of the eks.amazonaws.com/role-arn annotation of the AWS Load Balancer Controller's service account."
  value       = aws_iam_role.alb_controller.arn
}
