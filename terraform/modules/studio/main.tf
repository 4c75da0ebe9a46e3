# The studio's front door: who may sign in (a Cognito user pool, its hosted sign-in pages and the
# studio's app client), in which role (the groups artist, reviewer, lead, operator, carried in
# the ID token's cognito:groups claim), and the TLS certificate of its host name for the ALB.
# Its AWS access (IRSA) is in modules/iam (studio.tf), beside every other IRSA role; the CORS rule
# browser uploads need is on the store bucket (modules/storage).

locals {
  public_url = "https://${var.host_name}"
  # What the studio reads from the ID token: the groups are its roles (docs/deploy.md, "Studio").
  groups = {
    artist   = "Uploads deliveries and marks production stages for the ASINs assigned to them."
    reviewer = "Approves or rejects versions waiting for QA."
    lead     = "Assigns work to artists, rolls back and unpublishes."
    operator = "Everything, and the read-only metrics."
  }
  create_certificate = var.certificate_arn == null
}

# --- who may sign in -------------------------------------------------------------------------

resource "aws_cognito_user_pool" "studio" {
  name                = "${var.name}-studio"
  deletion_protection = var.deletion_protection ? "ACTIVE" : "INACTIVE"

  # People sign in with their e-mail address; administrators create them (no self sign-up:
  # the studio is for the studio's staff), and Cognito mails each a temporary password.
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  username_configuration {
    case_sensitive = false
  }
  admin_create_user_config {
    allow_admin_create_user_only = true
  }
  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  password_policy {
    minimum_length                   = 14
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
    password_history_size            = 5
  }

  # An authenticator app (TOTP) as the second factor: OPTIONAL lets each person turn it on, ON
  # makes everyone set it up at their first sign-in (prod).
  mfa_configuration = var.mfa
  software_token_mfa_configuration {
    enabled = true
  }

  # Threat protection (compromised credentials, risky sign-ins): AUDIT only records, ENFORCED
  # also blocks or asks for MFA. It needs the Plus feature plan.
  user_pool_tier = var.threat_protection == "OFF" ? "ESSENTIALS" : "PLUS"
  user_pool_add_ons {
    advanced_security_mode = var.threat_protection
  }

  tags = var.tags
}

resource "aws_cognito_user_group" "role" {
  for_each     = local.groups
  name         = each.key
  description  = each.value
  user_pool_id = aws_cognito_user_pool.studio.id
}

# The hosted sign-in pages: https://<domain_prefix>.auth.<region>.amazoncognito.com.
resource "aws_cognito_user_pool_domain" "studio" {
  domain       = var.domain_prefix
  user_pool_id = aws_cognito_user_pool.studio.id
}

# The studio, a confidential client: the authorization code flow with a client secret
# (SHAZAM_OIDC_CLIENT_SECRET), redirect to <public url>/auth/callback only. Short-lived tokens:
# the studio keeps its own signed session and signs in again after the refresh token's 12 hours.
resource "aws_cognito_user_pool_client" "studio" {
  name            = "${var.name}-studio"
  user_pool_id    = aws_cognito_user_pool.studio.id
  generate_secret = true

  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email", "profile"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = ["${local.public_url}/auth/callback"]
  default_redirect_uri                 = "${local.public_url}/auth/callback"
  logout_urls                          = [local.public_url, "${local.public_url}/"]

  # Sign-in happens on the hosted pages only: no password ever reaches the studio.
  explicit_auth_flows           = ["ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true

  id_token_validity      = 1
  access_token_validity  = 1
  refresh_token_validity = 12
  token_validity_units {
    id_token      = "hours"
    access_token  = "hours"
    refresh_token = "hours"
  }
}

# --- the studio's certificate (the ALB's HTTPS listener) ---------------------------------------

# Made here unless certificate_arn names an existing one. ACM validates it through a DNS record:
# written into route53_zone_id when given, else created by hand from the output
# studio_certificate_validation_records; the ALB refuses the certificate until it is issued.
resource "aws_acm_certificate" "studio" {
  count             = local.create_certificate ? 1 : 0
  domain_name       = var.host_name
  validation_method = "DNS"
  options {
    certificate_transparency_logging_preference = "ENABLED"
  }
  lifecycle {
    create_before_destroy = true # the listener never points at a deleted certificate
  }
  tags = var.tags
}

locals {
  validation_records = local.create_certificate ? {
    for option in aws_acm_certificate.studio[0].domain_validation_options : option.domain_name => {
      name  = option.resource_record_name
      type  = option.resource_record_type
      value = option.resource_record_value
    }
  } : {}
}

resource "aws_route53_record" "certificate_validation" {
  for_each        = var.route53_zone_id == null ? {} : local.validation_records
  zone_id         = var.route53_zone_id
  name            = each.value.name
  type            = each.value.type
  records         = [each.value.value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "studio" {
  count                   = local.create_certificate && var.route53_zone_id != null ? 1 : 0
  certificate_arn         = aws_acm_certificate.studio[0].arn
  validation_record_fqdns = [for record in aws_route53_record.certificate_validation : record.fqdn]
}
