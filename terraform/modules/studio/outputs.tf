output "public_url" {
  description = "SHAZAM_STUDIO_PUBLIC_URL."
  value       = local.public_url
}

output "user_pool_id" {
  description = "Cognito user pool of the studio's people (aws cognito-idp admin-create-user --user-pool-id)."
  value       = aws_cognito_user_pool.studio.id
}

output "oidc_issuer" {
  description = "SHAZAM_OIDC_ISSUER: https://cognito-idp.<region>.amazonaws.com/<user pool id>."
  value       = "https://${aws_cognito_user_pool.studio.endpoint}"
}

output "client_id" {
  description = "SHAZAM_OIDC_CLIENT_ID."
  value       = aws_cognito_user_pool_client.studio.id
}

output "client_secret" {
  description = "SHAZAM_OIDC_CLIENT_SECRET (Secret shazam-studio-secrets)."
  value       = aws_cognito_user_pool_client.studio.client_secret
  sensitive   = true
}

output "groups" {
  description = "The Cognito groups, the studio's roles."
  value       = sort([for group in aws_cognito_user_group.role : group.name])
}

output "sign_in_domain" {
  description = "Host of the hosted sign-in pages."
  value       = "${aws_cognito_user_pool_domain.studio.domain}.auth.${split("_", aws_cognito_user_pool.studio.id)[0]}.amazoncognito.com"
}

output "certificate_arn" {
  description = "ACM certificate of host_name: the Ingress annotation alb.ingress.kubernetes.io/certificate-arn."
  value = (
    local.create_certificate
    ? (var.route53_zone_id == null ? aws_acm_certificate.studio[0].arn : aws_acm_certificate_validation.studio[0].certificate_arn)
    : var.certificate_arn
  )
}

output "certificate_validation_records" {
  description = "The DNS record ACM checks before it issues the certificate (when this module makes it without a Route 53 zone): create it in host_name's domain."
  value       = local.validation_records
}
