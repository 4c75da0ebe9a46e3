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

# --- the studio ----------------------------------------------------------------------------

output "studio_host_name" {
  description = "SHAZAM_STUDIO_HOST (ConfigMap shazam-studio-env) and the host of deploy/k8s/studio/ingress.yaml; point its DNS record at the ALB."
  value       = local.studio_host_name
}

output "studio_url" {
  description = "SHAZAM_STUDIO_PUBLIC_URL (ConfigMap shazam-studio-env)."
  value       = module.studio.public_url
}

output "studio_oidc_issuer" {
  description = "SHAZAM_OIDC_ISSUER (ConfigMap shazam-studio-env)."
  value       = module.studio.oidc_issuer
}

output "studio_oidc_client_id" {
  description = "SHAZAM_OIDC_CLIENT_ID (ConfigMap shazam-studio-env)."
  value       = module.studio.client_id
}

output "studio_oidc_client_secret" {
  description = "SHAZAM_OIDC_CLIENT_SECRET (Secret shazam-studio-secrets): terraform output -raw studio_oidc_client_secret."
  value       = module.studio.client_secret
  sensitive   = true
}

output "studio_user_pool_id" {
  description = "The studio's Cognito user pool: aws cognito-idp admin-create-user / admin-add-user-to-group --user-pool-id."
  value       = module.studio.user_pool_id
}

output "studio_sign_in_domain" {
  description = "Host of the studio's hosted sign-in pages."
  value       = module.studio.sign_in_domain
}

output "studio_role_arn" {
  description = "IRSA role of the studio: eks.amazonaws.com/role-arn in deploy/k8s/studio/serviceaccount.yaml."
  value       = module.iam.studio_role_arn
}

output "studio_certificate_arn" {
  description = "alb.ingress.kubernetes.io/certificate-arn in deploy/k8s/studio/ingress.yaml."
  value       = module.studio.certificate_arn
}

output "studio_certificate_validation_records" {
  description = "DNS records ACM checks before it issues the studio's certificate (when made here without route53_zone_id): create them in domain_name's zone."
  value       = module.studio.certificate_validation_records
}

output "serve_role_arn" {
  description = "IRSA role of the search service: eks.amazonaws.com/role-arn in deploy/k8s/shop/serviceaccount.yaml."
  value       = module.iam.serve_role_arn
}

output "alb_controller_role_arn" {
  description = "IRSA role of the AWS Load Balancer Controller: its chart's serviceAccount.annotations eks.amazonaws.com/role-arn."
  value       = module.iam.alb_controller_role_arn
}

output "alb_subnet_cidrs" {
  description = "Public subnets' CIDRs, where the ALBs connect from: allow-studio-from-alb in deploy/k8s/studio/networkpolicies.yaml, allow-serve-from-alb in deploy/k8s/shop/networkpolicies.yaml."
  value       = module.network.public_subnet_cidrs
}

output "vpc_id" {
  description = "The VPC: the AWS Load Balancer Controller's vpcId."
  value       = module.network.vpc_id
}

# --- the shop ------------------------------------------------------------------------------

output "shop_url" {
  description = "The shop's address: shop.<domain_name>, served by CloudFront from published/."
  value       = module.cdn.public_url
}

output "shop_distribution_id" {
  description = "The shop's CloudFront distribution: aws cloudfront create-invalidation --distribution-id (docs/deploy.md)."
  value       = module.cdn.distribution_id
}

output "shop_distribution_domain_name" {
  description = "The distribution's host name (<id>.cloudfront.net): point shop.<domain_name> at it (an alias record) when route53_zone_id is not set."
  value       = module.cdn.domain_name
}

output "shop_certificate_validation_records" {
  description = "DNS records ACM checks before it issues the shop's certificate (when made here without route53_zone_id): create them in domain_name's zone."
  value       = module.cdn.certificate_validation_records
}
