# --- which environment, and where ----------------------------------------------------------

variable "environment" {
  description = "Environment name (dev, prod): names the cluster, VPC, database and roles shazam-<environment>, and tags every resource."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment: lower-case letters, digits and dashes, 2-16 characters."
  }
}

variable "allowed_account_ids" {
  description = "AWS accounts this environment may be applied to (the provider refuses any other, e.g. prod's tfvars against dev's credentials); null: any."
  type        = list(string)
  default     = null
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "eu-west-1"
}

variable "availability_zones" {
  description = "Two (or more) zones of the region for subnets, nodes and the database."
  type        = list(string)
  default     = ["eu-west-1a", "eu-west-1b"]
}

variable "bucket_name" {
  description = "Name of the store bucket (globally unique), e.g. shazam-<environment>-<account id>."
  type        = string
}

variable "store_prefix" {
  description = "Key prefix of the store in the bucket: SHAZAM_STORE_URL=s3://<bucket>/<store_prefix> (deploy/k8s/env)."
  type        = string
  default     = "shazam"
}

variable "upload_expiration_days" {
  description = "Days after which uploaded ZIPs under uploads/ expire (dev 30, prod 90)."
  type        = number
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version stays recoverable (dev 7, prod 30)."
  type        = number
}

variable "bucket_force_destroy" {
  description = "Let `terraform destroy` empty and delete the store bucket (dev only)."
  type        = bool
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the cluster."
  type        = string
  default     = "1.33"
}

variable "api_allowed_cidrs" {
  description = "CIDRs that may reach the Kubernetes API over the internet; empty keeps it private."
  type        = list(string)
  default     = []
}

variable "admin_principal_arns" {
  description = "IAM roles/users given cluster-admin (CI deploy role, operators)."
  type        = list(string)
  default     = []
}

variable "notify_sns_topic_arn" {
  description = "SNS topic the pipeline may publish reviewer decisions to (SHAZAM_NOTIFY_URL=sns:<arn>); null for none."
  type        = string
  default     = null
}

# --- sizes and protections: what differs between environments (env/<env>.tfvars) ------------

variable "vpc_cidr" {
  description = "CIDR block of the environment's VPC (dev 10.20.0.0/16, prod 10.30.0.0/16)."
  type        = string
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (dev) instead of one per zone (prod)."
  type        = bool
}

variable "cpu_instance_types" {
  description = "Instance types of the cpu node group (code server, daemon, CPU steps)."
  type        = list(string)
}

variable "cpu_min_size" {
  description = "Minimum size of the cpu node group."
  type        = number
}

variable "cpu_desired_size" {
  description = "Initial size of the cpu node group."
  type        = number
}

variable "cpu_max_size" {
  description = "Maximum size of the cpu node group."
  type        = number
}

variable "cpu_spot" {
  description = "Run the cpu node group on Spot capacity (dev)."
  type        = bool
}

variable "gpu_instance_types" {
  description = "Instance types of the gpu node group (render steps); it scales from zero."
  type        = list(string)
}

variable "gpu_max_size" {
  description = "Maximum size of the gpu node group: keep it equal to concurrency.pools.defaultLimit in deploy/helm/values.yaml (prod)."
  type        = number
}

variable "gpu_spot" {
  description = "Run the gpu node group on Spot capacity (dev)."
  type        = bool
}

variable "database_instance_class" {
  description = "RDS instance class of Dagster's PostgreSQL."
  type        = string
}

variable "database_multi_az" {
  description = "Standby database in a second zone (prod)."
  type        = bool
}

variable "database_deletion_protection" {
  description = "Refuse to delete the database (prod). When false, destroy skips the final snapshot."
  type        = bool
}

variable "database_backup_retention_days" {
  description = "Days of automated database backups."
  type        = number
}

variable "ecr_repository_name" {
  description = "Image repository name (dev shazam-dev, prod shazam)."
  type        = string
}

# --- the studio (modules/studio, docs/deploy.md "Studio") ----------------------------------

variable "domain_name" {
  description = "DNS domain the environment's public names live under: the studio is studio.<domain_name> (dev dev.shazam.example.com, prod shazam.example.com)."
  type        = string
}

variable "studio_sign_in_domain_prefix" {
  description = "Prefix of the studio's hosted sign-in pages, <prefix>.auth.<region>.amazoncognito.com: unique in the region (e.g. shazam-<environment>-<account id>)."
  type        = string
}

variable "studio_certificate_arn" {
  description = "An existing ACM certificate for studio.<domain_name> in this region; null makes one (DNS validation)."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone of domain_name: the certificate's validation record is written there; null: create it by hand (output studio_certificate_validation_records)."
  type        = string
  default     = null
}

variable "studio_deletion_protection" {
  description = "Refuse to delete the studio's user pool and with it every account (prod)."
  type        = bool
}

variable "studio_mfa" {
  description = "Second factor for studio sign-in: OPTIONAL (dev) or ON (prod: everyone sets up an authenticator app)."
  type        = string
}

variable "studio_threat_protection" {
  description = "Cognito threat protection: OFF, AUDIT (dev: record risky sign-ins) or ENFORCED (prod: block them). AUDIT and ENFORCED use the Plus feature plan."
  type        = string
}

# --- the shop (modules/cdn, docs/deploy.md "The shop's CDN") ---------------------------------

variable "shop_certificate_arn" {
  description = "An existing ACM certificate for shop.<domain_name> in us-east-1 (CloudFront's region); null makes one (DNS validation)."
  type        = string
  default     = null
}

variable "shop_search_host_name" {
  description = "Host name of the search API (HTTPS), served at shop.<domain_name>/search* so the catalogue's search box works; \"\" for none."
  type        = string
  default     = ""
}

variable "shop_price_class" {
  description = "CloudFront price class of the shop (PriceClass_100: North America and Europe)."
  type        = string
  default     = "PriceClass_100"
}
