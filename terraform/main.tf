# SHAZAM, one environment: the modules composed once. What makes an environment dev or prod is
# in env/<env>.tfvars (sizes, zones of redundancy, protections); its state is separate through
# env/<env>.backend.hcl. dev: one NAT gateway, Spot nodes, a small single-zone database without
# deletion protection, a bucket `terraform destroy` may empty. prod: a NAT gateway per zone,
# on-demand nodes, a Multi-AZ database with deletion protection, a bucket destroy refuses to empty.

locals {
  environment = var.environment # (as a local, checkov evaluates the name; tests/test_terraform.py)
  name        = "shazam-${local.environment}"
  # The studio's host name: SHAZAM_STUDIO_HOST, the Ingress host, the certificate, the callback.
  studio_host_name = format("studio.%s", var.domain_name) # (no var inside a template: see _render_root in tests/test_terraform.py)
  # The shop's host name: the CDN's alias and certificate, and the origin the pages' CSP names.
  shop_host_name = format("shop.%s", var.domain_name)
}

module "network" {
  source             = "./modules/network"
  name               = local.name
  cluster_name       = local.name
  availability_zones = var.availability_zones
  cidr_block         = var.vpc_cidr
  single_nat_gateway = var.single_nat_gateway
}

module "eks" {
  source                 = "./modules/eks"
  cluster_name           = local.name
  kubernetes_version     = var.kubernetes_version
  vpc_id                 = module.network.vpc_id
  private_subnet_ids     = module.network.private_subnet_ids
  endpoint_public_access = length(var.api_allowed_cidrs) > 0
  public_access_cidrs    = var.api_allowed_cidrs
  admin_principal_arns   = var.admin_principal_arns

  cpu_instance_types = var.cpu_instance_types
  cpu_min_size       = var.cpu_min_size
  cpu_desired_size   = var.cpu_desired_size
  cpu_max_size       = var.cpu_max_size
  cpu_spot           = var.cpu_spot
  gpu_instance_types = var.gpu_instance_types
  gpu_max_size       = var.gpu_max_size
  gpu_spot           = var.gpu_spot
}

module "storage" {
  source                             = "./modules/storage"
  bucket_name                        = var.bucket_name
  store_prefix                       = var.store_prefix
  upload_expiration_days             = var.upload_expiration_days
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  force_destroy                      = var.bucket_force_destroy
  cors_allowed_origins               = ["https://${local.studio_host_name}"] # browser uploads
  # The shop's CDN reads (and decrypts) published/* for its distribution only.
  bucket_policy_statements  = module.cdn.bucket_policy_statements
  kms_key_policy_statements = module.cdn.kms_key_policy_statements
}

# The shop: product pages and the catalogue from published/ through CloudFront (docs/deploy.md).
module "cdn" {
  source = "./modules/cdn"
  providers = {
    aws = aws.us_east_1 # CloudFront's certificates and log deliveries live in us-east-1
  }
  name                        = local.name
  host_name                   = local.shop_host_name
  account_id                  = module.storage.account_id
  bucket_name                 = module.storage.bucket_name
  bucket_arn                  = module.storage.bucket_arn
  bucket_regional_domain_name = module.storage.bucket_regional_domain_name
  published_prefix            = module.storage.published_prefix
  search_host_name            = var.shop_search_host_name
  certificate_arn             = var.shop_certificate_arn
  route53_zone_id             = var.route53_zone_id
  price_class                 = var.shop_price_class
}

module "database" {
  source                     = "./modules/database"
  name                       = "${local.name}-dagster"
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.node_security_group_id]
  instance_class             = var.database_instance_class
  multi_az                   = var.database_multi_az
  deletion_protection        = var.database_deletion_protection
  backup_retention_days      = var.database_backup_retention_days
}

module "iam" {
  source            = "./modules/iam"
  role_name         = "${local.name}-dagster"
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  namespace         = "shazam"
  service_account   = "dagster"
  bucket_arn        = module.storage.bucket_arn
  kms_key_arn       = module.storage.kms_key_arn
  queue_arn         = module.storage.upload_queue_arn
  object_prefixes   = module.storage.object_prefixes
  sns_topic_arn     = var.notify_sns_topic_arn

  # deploy/monitoring/values-cloudwatch-exporter.yaml: helm -n monitoring, serviceAccount.name.
  cloudwatch_exporter_role_name       = "${local.name}-cloudwatch-exporter"
  cloudwatch_exporter_namespace       = "monitoring"
  cloudwatch_exporter_service_account = "cloudwatch-exporter"

  # deploy/k8s/studio/serviceaccount.yaml.
  studio_role_name       = "${local.name}-studio"
  studio_namespace       = "shazam"
  studio_service_account = "shazam-studio"
  studio_store_prefix    = module.storage.store_key_prefix

  # deploy/k8s/shop/serviceaccount.yaml: the search service, read-only.
  serve_role_name       = "${local.name}-serve"
  serve_namespace       = "shazam"
  serve_service_account = "shazam-serve"
  serve_store_prefix    = module.storage.store_key_prefix

  # The AWS Load Balancer Controller (docs/deploy.md): helm -n kube-system, serviceAccount.name.
  alb_controller_role_name       = "${local.name}-aws-load-balancer-controller"
  alb_controller_namespace       = "kube-system"
  alb_controller_service_account = "aws-load-balancer-controller"
}

# The studio's sign-in (Cognito) and certificate; its IRSA role is module.iam's.
module "studio" {
  source              = "./modules/studio"
  name                = local.name
  host_name           = local.studio_host_name
  domain_prefix       = var.studio_sign_in_domain_prefix
  deletion_protection = var.studio_deletion_protection
  mfa                 = var.studio_mfa
  threat_protection   = var.studio_threat_protection
  certificate_arn     = var.studio_certificate_arn
  route53_zone_id     = var.route53_zone_id
}

module "ecr" {
  source = "./modules/ecr"
  name   = var.ecr_repository_name
}
