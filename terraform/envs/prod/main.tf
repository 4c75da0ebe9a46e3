# SHAZAM prod: a NAT gateway per zone, on-demand nodes, a Multi-AZ database with deletion
# protection, a bucket that `terraform destroy` refuses to empty. Same modules as ../dev.

locals {
  environment = "prod"
  name        = "shazam-${local.environment}"
}

module "network" {
  source             = "../../modules/network"
  name               = local.name
  cluster_name       = local.name
  availability_zones = var.availability_zones
  cidr_block         = "10.30.0.0/16"
  single_nat_gateway = false
}

module "eks" {
  source                 = "../../modules/eks"
  cluster_name           = local.name
  kubernetes_version     = var.kubernetes_version
  vpc_id                 = module.network.vpc_id
  private_subnet_ids     = module.network.private_subnet_ids
  endpoint_public_access = length(var.api_allowed_cidrs) > 0
  public_access_cidrs    = var.api_allowed_cidrs
  admin_principal_arns   = var.admin_principal_arns

  cpu_instance_types = ["m6i.xlarge", "m6a.xlarge"]
  cpu_min_size       = 2
  cpu_desired_size   = 2
  cpu_max_size       = 6
  cpu_spot           = false
  gpu_instance_types = ["g5.xlarge", "g4dn.xlarge"]
  gpu_max_size       = 2 # = concurrency.pools.defaultLimit in deploy/helm/values.yaml
  gpu_spot           = false
}

module "storage" {
  source                             = "../../modules/storage"
  bucket_name                        = var.bucket_name
  store_prefix                       = var.store_prefix
  upload_expiration_days             = var.upload_expiration_days
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  force_destroy                      = false
}

module "database" {
  source                     = "../../modules/database"
  name                       = "${local.name}-dagster"
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.node_security_group_id]
  instance_class             = "db.m7g.large"
  multi_az                   = true
  deletion_protection        = true
  backup_retention_days      = 14
}

module "iam" {
  source            = "../../modules/iam"
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
}

module "ecr" {
  source = "../../modules/ecr"
  name   = "shazam"
}
