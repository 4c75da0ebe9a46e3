# dev: cheap and disposable. `terraform plan -var-file=env/dev.tfvars` (after
# `terraform init -reconfigure -backend-config=env/dev.backend.hcl`); docs/deploy.md.
environment = "dev"

# --- this account: replace the placeholders ---
# allowed_account_ids  = ["123456789012"]
bucket_name          = "shazam-dev-123456789012"
api_allowed_cidrs    = ["203.0.113.0/24"] # office / VPN egress; [] keeps the API private
admin_principal_arns = ["arn:aws:iam::123456789012:role/shazam-ci-deploy"]
# notify_sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:shazam-review-decisions"

# --- network: one NAT gateway for both zones ---
vpc_cidr           = "10.20.0.0/16"
single_nat_gateway = true

# --- nodes: Spot ---
cpu_instance_types = ["m6i.xlarge", "m6a.xlarge", "m5.xlarge"]
cpu_min_size       = 1
cpu_desired_size   = 1
cpu_max_size       = 3
cpu_spot           = true
gpu_instance_types = ["g5.xlarge", "g4dn.xlarge"]
gpu_max_size       = 1
gpu_spot           = true

# --- store: short retention, destroy may empty the bucket ---
upload_expiration_days             = 30
noncurrent_version_expiration_days = 7
bucket_force_destroy               = true

# --- database: small, single zone, no deletion protection ---
database_instance_class        = "db.t4g.small"
database_multi_az              = false
database_deletion_protection   = false
database_backup_retention_days = 3

ecr_repository_name = "shazam-dev"

# --- the studio: studio.<domain_name>; sign-in without enforced MFA, pool may be deleted ---
domain_name                  = "dev.shazam.example.com"  # replace: a domain whose DNS you control
studio_sign_in_domain_prefix = "shazam-dev-123456789012" # replace: unique in the region
# studio_certificate_arn     = "arn:aws:acm:eu-west-1:123456789012:certificate/..." # else one is made
# route53_zone_id            = "Z0123456789EXAMPLE" # writes the certificate's validation record
studio_deletion_protection = false
studio_mfa                 = "OPTIONAL"
studio_threat_protection   = "AUDIT"

# --- the shop: shop.<domain_name> on CloudFront (modules/cdn); its certificate is made in us-east-1 ---
# shop_certificate_arn  = "arn:aws:acm:us-east-1:123456789012:certificate/..." # else one is made
# shop_search_host_name = "search.dev.shazam.example.com" # the search API's HTTPS host, behind /search*
