# prod: redundant and protected. `terraform plan -var-file=env/prod.tfvars` (after
# `terraform init -reconfigure -backend-config=env/prod.backend.hcl`); docs/deploy.md.
environment = "prod"

# --- this account: replace the placeholders ---
# allowed_account_ids  = ["123456789012"]
bucket_name          = "shazam-prod-123456789012"
api_allowed_cidrs    = [] # private API: reach it through the VPN
admin_principal_arns = ["arn:aws:iam::123456789012:role/shazam-ci-deploy"]
# notify_sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:shazam-review-decisions"

# --- network: a NAT gateway per zone ---
vpc_cidr           = "10.30.0.0/16"
single_nat_gateway = false

# --- nodes: on-demand ---
cpu_instance_types = ["m6i.xlarge", "m6a.xlarge"]
cpu_min_size       = 2
cpu_desired_size   = 2
cpu_max_size       = 6
cpu_spot           = false
gpu_instance_types = ["g5.xlarge", "g4dn.xlarge"]
gpu_max_size       = 2 # = concurrency.pools.defaultLimit in deploy/helm/values.yaml
gpu_spot           = false

# --- store: longer retention, destroy refuses to empty the bucket ---
upload_expiration_days             = 90
noncurrent_version_expiration_days = 30
bucket_force_destroy               = false

# --- database: Multi-AZ, deletion protection, two weeks of backups ---
database_instance_class        = "db.m7g.large"
database_multi_az              = true
database_deletion_protection   = true
database_backup_retention_days = 14

ecr_repository_name = "shazam"

# --- the studio: studio.<domain_name>; MFA for everyone, risky sign-ins blocked, pool protected ---
domain_name                  = "shazam.example.com"       # replace: a domain whose DNS you control
studio_sign_in_domain_prefix = "shazam-prod-123456789012" # replace: unique in the region
# studio_certificate_arn     = "arn:aws:acm:eu-west-1:123456789012:certificate/..." # else one is made
# route53_zone_id            = "Z0123456789EXAMPLE" # writes the certificate's validation record
studio_deletion_protection = true
studio_mfa                 = "ON"
studio_threat_protection   = "ENFORCED"

# --- the shop: shop.<domain_name> on CloudFront (modules/cdn); its certificate is made in us-east-1 ---
# shop_certificate_arn  = "arn:aws:acm:us-east-1:123456789012:certificate/..." # else one is made
# shop_search_host_name = "search.shazam.example.com" # the search API's HTTPS host, behind /search*
