output "cluster_name" {
  description = "EKS cluster: aws eks update-kubeconfig --name <cluster_name>."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.eks.cluster_endpoint
}

output "bucket_name" {
  description = "Store bucket."
  value       = module.storage.bucket_name
}

output "store_url" {
  description = "SHAZAM_STORE_URL (ConfigMap shazam-env)."
  value       = module.storage.store_url
}

output "compute_logs_bucket" {
  description = "DAGSTER_COMPUTE_LOGS_BUCKET (ConfigMap shazam-env): the store bucket."
  value       = module.storage.bucket_name
}

output "compute_logs_prefix" {
  description = "DAGSTER_COMPUTE_LOGS_PREFIX (ConfigMap shazam-env)."
  value       = module.storage.compute_logs_prefix
}

output "upload_queue_url" {
  description = "SHAZAM_UPLOAD_QUEUE_URL (ConfigMap shazam-env)."
  value       = module.storage.upload_queue_url
}

output "dead_letter_queue_url" {
  description = "Where malformed upload events end up."
  value       = module.storage.dead_letter_queue_url
}

output "rds_endpoint" {
  description = "Database host: Helm postgresql.postgresqlHost."
  value       = module.database.address
}

output "rds_subnet_cidrs" {
  description = "CIDRs of the database's subnets (allow-postgres-egress in deploy/k8s/networkpolicies.yaml)."
  value       = module.network.private_subnet_cidrs
}

output "rds_master_secret_arn" {
  description = "Secrets Manager secret with the database password (for dagster-postgresql-secret)."
  value       = module.database.master_user_secret_arn
}

output "dagster_role_arn" {
  description = "IRSA role: Helm serviceAccount.annotations eks.amazonaws.com/role-arn."
  value       = module.iam.dagster_role_arn
}

output "cloudwatch_exporter_role_arn" {
  description = "IRSA role of the CloudWatch exporter: serviceAccount.annotations eks.amazonaws.com/role-arn in deploy/monitoring/values-cloudwatch-exporter.yaml."
  value       = module.iam.cloudwatch_exporter_role_arn
}

output "ecr_repository_url" {
  description = "Image repository: Helm dagster-user-deployments image.repository."
  value       = module.ecr.repository_url
}

output "nat_public_ips" {
  description = "Addresses the cluster's outbound traffic leaves from."
  value       = module.network.nat_public_ips
}
