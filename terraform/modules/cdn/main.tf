# The shop: CloudFront in front of the store bucket's published/ tree (docs/deploy.md, "The
# shop's CDN"). The bucket stays private and public-access-blocked: CloudFront reads it through
# origin access control (SigV4), and the bucket policy it hands to modules/storage lets the
# CloudFront service read published/* for this distribution only. What each object is served as
# and how long it may be cached was decided when it was published (Content-Type and
# Cache-Control on the object: shazam_assets/publish/serving.py); this distribution honours
# them and adds the pages' Content-Security-Policy and security headers, the ones `shazam serve`
# sends (shazam_assets/publish/server.py, shazam_assets/platform/web.py).
#
# Every resource here lives in us-east-1, CloudFront's region (its certificates, its log
# deliveries; the distribution and its policies are global): the root passes its us-east-1
# provider as this module's `aws`.

data "aws_partition" "current" {}

locals {
  store_origin  = "store-published"
  search_origin = "search-api"
  # The pages' policy, generated from pages_policy() by `make docs` (tests/test_terraform.py
  # fails when the two differ): scripts and workers only from https://<host>/_static/.
  content_security_policy = trimspace(templatefile("${path.module}/pages_csp.tftpl", { host_name = var.host_name }))
  # What served_as() stores on the objects; also sent by the response headers policies (without
  # overriding the object's own) for objects published before they carried one.
  pointer_cache_control   = "public, max-age=15, s-maxage=30"
  immutable_cache_control = "public, max-age=31536000, immutable"
  year                    = 31536000
  # Content-named keys: every file under _static/, and every file of a release folder
  # <ASIN>/r<16 hex digits>/ (publish/release.py names them by their content).
  immutable_paths    = ["/_static/*", "/*/r????????????????/*"]
  create_certificate = var.certificate_arn == null
  certificate_arn = (
    local.create_certificate
    ? (var.route53_zone_id == null ? aws_acm_certificate.shop[0].arn : aws_acm_certificate_validation.shop[0].certificate_arn)
    : var.certificate_arn
  )
}

# --- reading the bucket ------------------------------------------------------------------------

resource "aws_cloudfront_origin_access_control" "store" {
  name                              = "${var.name}-shop-store"
  description                       = "The shop reads ${var.bucket_name}/${var.published_prefix} with SigV4"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# --- how long the edge keeps what ----------------------------------------------------------------

# The pointers (pages, manifests, catalogue) as their Cache-Control says (s-maxage=30), never
# longer than a minute whatever an object says, and 30 s for one that says nothing: a rollback
# or an unpublish shows within a minute. Nothing of the request varies the answer.
resource "aws_cloudfront_cache_policy" "pages" {
  name        = "${var.name}-shop-pages"
  comment     = "Pointers: the object's Cache-Control, at most a minute"
  min_ttl     = 0
  default_ttl = 30
  max_ttl     = 60
  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_gzip   = true
    enable_accept_encoding_brotli = true
    cookies_config {
      cookie_behavior = "none"
    }
    headers_config {
      header_behavior = "none"
    }
    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

# Release files and _static/: a name never changes its content, so a year.
resource "aws_cloudfront_cache_policy" "immutable" {
  name        = "${var.name}-shop-immutable"
  comment     = "Content-named files: a year"
  min_ttl     = 0
  default_ttl = local.year
  max_ttl     = local.year
  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_gzip   = true
    enable_accept_encoding_brotli = true
    cookies_config {
      cookie_behavior = "none"
    }
    headers_config {
      header_behavior = "none"
    }
    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

# The search API answers each query afresh: nothing cached, every query string (and the photo
# of POST /search/image) passed on.
resource "aws_cloudfront_cache_policy" "search" {
  count       = var.search_host_name == "" ? 0 : 1
  name        = "${var.name}-shop-search"
  comment     = "The search API: never cached"
  min_ttl     = 0
  default_ttl = 0
  max_ttl     = 0
  parameters_in_cache_key_and_forwarded_to_origin {
    cookies_config {
      cookie_behavior = "none"
    }
    headers_config {
      header_behavior = "none"
    }
    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

resource "aws_cloudfront_origin_request_policy" "search" {
  count   = var.search_host_name == "" ? 0 : 1
  name    = "${var.name}-shop-search"
  comment = "The search API: every query string and the request's content headers"
  cookies_config {
    cookie_behavior = "none"
  }
  headers_config {
    header_behavior = "whitelist"
    headers {
      items = ["Accept", "Content-Type", "Origin"]
    }
  }
  query_strings_config {
    query_string_behavior = "all"
  }
}

# --- what every answer carries -----------------------------------------------------------------

# One policy per kind of path: the security headers of shazam_assets/platform/web.py (the pages'
# CSP, nosniff, DENY, same-origin) and HSTS, plus the Cache-Control an object of that kind is
# published with, for objects that carry none (override = false keeps the object's own).
resource "aws_cloudfront_response_headers_policy" "shop" {
  for_each = {
    pages     = local.pointer_cache_control
    immutable = local.immutable_cache_control
    search    = ""
  }
  name    = "${var.name}-shop-${each.key}"
  comment = "The pages' CSP and security headers (${each.key})"

  security_headers_config {
    content_security_policy {
      content_security_policy = local.content_security_policy
      override                = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "same-origin"
      override        = true
    }
    strict_transport_security {
      access_control_max_age_sec = 63072000 # two years
      include_subdomains         = true
      preload                    = true # consent only: hstspreload.org lists a domain on request
      override                   = true
    }
  }

  dynamic "custom_headers_config" {
    for_each = each.value == "" ? [] : [each.value]
    content {
      items {
        header   = "Cache-Control"
        value    = custom_headers_config.value
        override = false
      }
    }
  }
}

resource "aws_cloudfront_function" "pages" {
  name    = "${var.name}-shop-pages"
  runtime = "cloudfront-js-2.0"
  comment = "Folder URLs to their index.html; /<ASIN> to /<ASIN>/"
  publish = true
  code    = file("${path.module}/pages.js")
}

# --- the distribution ------------------------------------------------------------------------

resource "aws_cloudfront_distribution" "shop" {
  #checkov:skip=CKV_AWS_86:Access logs go to CloudWatch Logs through standard logging v2 (aws_cloudwatch_log_delivery below), which this check does not know
  #checkov:skip=CKV_AWS_310:One origin by design: the store bucket is the only copy of the pages (no second-region replica, see CKV_AWS_144 in .checkov.yaml)
  #checkov:skip=CKV_AWS_374:The shop sells wherever the business does; no country is refused at the edge
  comment             = "SHAZAM shop: ${var.host_name} from ${var.bucket_name}/${var.published_prefix}"
  enabled             = true
  is_ipv6_enabled     = true
  http_version        = "http2and3"
  price_class         = var.price_class
  aliases             = [var.host_name]
  default_root_object = "index.html"
  web_acl_id          = aws_wafv2_web_acl.shop.arn

  origin {
    origin_id                = local.store_origin
    domain_name              = var.bucket_regional_domain_name
    origin_path              = "/${trim(var.published_prefix, "/")}"
    origin_access_control_id = aws_cloudfront_origin_access_control.store.id
  }

  dynamic "origin" {
    for_each = var.search_host_name == "" ? [] : [var.search_host_name]
    content {
      origin_id   = local.search_origin
      domain_name = origin.value
      custom_origin_config {
        http_port              = 80
        https_port             = 443
        origin_protocol_policy = "https-only"
        origin_ssl_protocols   = ["TLSv1.2"]
      }
    }
  }

  default_cache_behavior {
    target_origin_id           = local.store_origin
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = aws_cloudfront_cache_policy.pages.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.shop["pages"].id
    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.pages.arn
    }
  }

  # The catalogue page's search box asks /search on its own origin (its CSP allows no other).
  dynamic "ordered_cache_behavior" {
    for_each = var.search_host_name == "" ? [] : ["/search*"]
    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = local.search_origin
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      cache_policy_id            = aws_cloudfront_cache_policy.search[0].id
      origin_request_policy_id   = aws_cloudfront_origin_request_policy.search[0].id
      response_headers_policy_id = aws_cloudfront_response_headers_policy.shop["search"].id
    }
  }

  dynamic "ordered_cache_behavior" {
    for_each = local.immutable_paths
    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = local.store_origin
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = ["GET", "HEAD"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      cache_policy_id            = aws_cloudfront_cache_policy.immutable.id
      response_headers_policy_id = aws_cloudfront_response_headers_policy.shop["immutable"].id
    }
  }

  # Without s3:ListBucket (the bucket policy grants GetObject on published/* only) S3 answers
  # a missing key with 403: the shopper gets the 404 it is. Errors are kept 10 s at the edge, so
  # a page published just after someone asked for it shows within the same minute.
  dynamic "custom_error_response" {
    for_each = [403, 404]
    content {
      error_code            = custom_error_response.value
      response_code         = 404
      response_page_path    = var.not_found_page_path
      error_caching_min_ttl = 10
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = local.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  tags = var.tags
}

# --- the firewall in front of it ----------------------------------------------------------------

# AWS's known-bad-inputs (Log4j, exploit paths) and IP-reputation rule groups, the anonymous-IP
# group counted only, and a per-address rate limit on the search API, the one path whose every request costs the cluster work (pages
# come from the edge's cache). No body-size rule: POST /search/image carries a photo.
resource "aws_wafv2_web_acl" "shop" {
  name        = "${var.name}-shop"
  description = "The shop: managed rule groups and a rate limit on /search"
  scope       = "CLOUDFRONT"

  default_action {
    allow {}
  }

  rule {
    name     = "known-bad-inputs"
    priority = 0
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-shop-known-bad-inputs"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "ip-reputation"
    priority = 1
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesAmazonIpReputationList"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-shop-ip-reputation"
      sampled_requests_enabled   = true
    }
  }

  # Counted, not blocked: shoppers behind a VPN or a privacy relay are shoppers. The counts
  # (CloudWatch metric, sampled requests) tell whether it is worth blocking a part of it.
  rule {
    name     = "anonymous-ip"
    priority = 2
    override_action {
      count {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesAnonymousIpList"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-shop-anonymous-ip"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "search-rate-limit"
    priority = 3
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit              = var.search_rate_limit
        aggregate_key_type = "IP"
        scope_down_statement {
          byte_match_statement {
            search_string         = "/search"
            positional_constraint = "STARTS_WITH"
            field_to_match {
              uri_path {}
            }
            text_transformation {
              priority = 0
              type     = "NONE"
            }
          }
        }
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-shop-search-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-shop"
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

# --- the certificate of the shop's host name ---------------------------------------------------

# Made here unless certificate_arn names an existing one, validated through DNS: in
# route53_zone_id when given (apply then waits until it is issued), else by hand from the output
# certificate_validation_records (CloudFront refuses the certificate until it is issued).
resource "aws_acm_certificate" "shop" {
  count             = local.create_certificate ? 1 : 0
  domain_name       = var.host_name
  validation_method = "DNS"
  options {
    certificate_transparency_logging_preference = "ENABLED"
  }
  lifecycle {
    create_before_destroy = true
  }
  tags = var.tags
}

locals {
  validation_records = local.create_certificate ? {
    for option in aws_acm_certificate.shop[0].domain_validation_options : option.domain_name => {
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

resource "aws_acm_certificate_validation" "shop" {
  count                   = local.create_certificate && var.route53_zone_id != null ? 1 : 0
  certificate_arn         = aws_acm_certificate.shop[0].arn
  validation_record_fqdns = [for record in aws_route53_record.certificate_validation : record.fqdn]
}

# shop.<domain> names the distribution, when the zone is ours to write.
resource "aws_route53_record" "shop" {
  for_each = var.route53_zone_id == null ? toset([]) : toset(["A", "AAAA"])
  zone_id  = var.route53_zone_id
  name     = var.host_name
  type     = each.key
  alias {
    name                   = aws_cloudfront_distribution.shop.domain_name
    zone_id                = aws_cloudfront_distribution.shop.hosted_zone_id
    evaluate_target_health = false
  }
}

# --- logs: CloudFront standard logging (v2) and the firewall's, to encrypted log groups ----------

locals {
  log_groups = {
    access = "/aws/cloudfront/${var.name}-shop"
    waf    = "aws-waf-logs-${var.name}-shop" # WAF writes only to groups named aws-waf-logs-*
  }
}

resource "aws_kms_key" "logs" {
  description             = "${var.name} shop CDN access logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${var.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.us-east-1.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnEquals = {
            "kms:EncryptionContext:aws:logs:arn" = [
              for group in values(local.log_groups) :
              "arn:${data.aws_partition.current.partition}:logs:us-east-1:${var.account_id}:log-group:${group}"
            ]
          }
        }
      },
    ]
  })
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "shop" {
  for_each          = local.log_groups
  name              = each.value
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_delivery_source" "access" {
  name         = "${var.name}-shop"
  log_type     = "ACCESS_LOGS"
  resource_arn = aws_cloudfront_distribution.shop.arn
  tags         = var.tags
}

resource "aws_cloudwatch_log_delivery_destination" "access" {
  name          = "${var.name}-shop"
  output_format = "json"
  delivery_destination_configuration {
    destination_resource_arn = aws_cloudwatch_log_group.shop["access"].arn
  }
  tags = var.tags
}

resource "aws_cloudwatch_log_delivery" "access" {
  delivery_source_name     = aws_cloudwatch_log_delivery_source.access.name
  delivery_destination_arn = aws_cloudwatch_log_delivery_destination.access.arn
  tags                     = var.tags
}

# What the firewall blocked and why.
resource "aws_wafv2_web_acl_logging_configuration" "shop" {
  resource_arn            = aws_wafv2_web_acl.shop.arn
  log_destination_configs = [aws_cloudwatch_log_group.shop["waf"].arn]
}
