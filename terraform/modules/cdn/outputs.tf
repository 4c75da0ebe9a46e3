output "distribution_id" {
  description = "The distribution: aws cloudfront create-invalidation --distribution-id <id> (docs/deploy.md)."
  value       = aws_cloudfront_distribution.shop.id
}

output "distribution_arn" {
  description = "ARN of the distribution: the only source the bucket and key grant CloudFront to."
  value       = aws_cloudfront_distribution.shop.arn
}

output "domain_name" {
  description = "The distribution's own host name (<id>.cloudfront.net): where shop.<domain> points."
  value       = aws_cloudfront_distribution.shop.domain_name
}

output "public_url" {
  description = "The shop's address."
  value       = "https://${var.host_name}/"
}

output "certificate_validation_records" {
  description = "DNS records ACM checks before it issues the shop's certificate (when made here without route53_zone_id)."
  value       = local.validation_records
}

# modules/storage merges these into the bucket policy and the store key's policy: the CloudFront
# service may read published/* (and decrypt it), for requests of this distribution only.
output "bucket_policy_statements" {
  description = "Bucket policy statements for modules/storage (bucket_policy_statements)."
  value = [{
    Sid       = "ShopCdnReadsPublishedPages"
    Effect    = "Allow"
    Principal = { Service = "cloudfront.amazonaws.com" }
    Action    = "s3:GetObject"
    Resource  = "${var.bucket_arn}/${var.published_prefix}*"
    Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.shop.arn } }
  }]
}

output "kms_key_policy_statements" {
  description = "Store key policy statements for modules/storage (kms_key_policy_statements)."
  value = [{
    Sid       = "ShopCdnDecryptsPublishedPages"
    Effect    = "Allow"
    Principal = { Service = "cloudfront.amazonaws.com" }
    Action    = "kms:Decrypt"
    Resource  = "*"
    Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.shop.arn } }
  }]
}
