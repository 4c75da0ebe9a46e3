# The store bucket and the S3 event notification queue read by `upload_queue_sensor`.
# Objects and queue messages are encrypted with one customer-managed KMS key; the Dagster IRSA
# role (modules/iam) is granted use of that key.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id          = data.aws_caller_identity.current.account_id
  store_prefix        = trim(var.store_prefix, "/") == "" ? "" : "${trim(var.store_prefix, "/")}/"
  uploads_prefix      = "${local.store_prefix}uploads/"
  compute_logs_prefix = "${trim(var.compute_logs_prefix, "/")}/"
  published_prefix    = "${local.store_prefix}published/" # the product pages (modules/cdn)
}

# --- encryption key: bucket objects and both queues ---------------------------------------

resource "aws_kms_key" "store" {
  description             = "SHAZAM store bucket ${var.bucket_name} and its upload event queues"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        # IAM policies of this account decide who else may use the key (the Dagster role).
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # S3 encrypts the event notifications it sends to the (encrypted) upload queue.
        Sid       = "S3EventNotifications"
        Effect    = "Allow"
        Principal = { Service = "s3.amazonaws.com" }
        Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ], var.kms_key_policy_statements) # the shop's CDN decrypts the pages it serves (modules/cdn)
  })
  tags = var.tags
}

resource "aws_kms_alias" "store" {
  name          = "alias/${var.bucket_name}"
  target_key_id = aws_kms_key.store.key_id
}

# --- bucket ---------------------------------------------------------------------------------

resource "aws_s3_bucket" "store" {
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "store" {
  bucket = aws_s3_bucket.store.id
  rule {
    object_ownership = "BucketOwnerEnforced" # no ACLs; the bucket policy and IAM decide
  }
}

resource "aws_s3_bucket_versioning" "store" {
  bucket = aws_s3_bucket.store.id
  versioning_configuration {
    status = "Enabled" # an overwritten or deleted object stays recoverable
  }
}

resource "aws_s3_bucket_public_access_block" "store" {
  bucket                  = aws_s3_bucket.store.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "store" {
  bucket = aws_s3_bucket.store.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.store.arn
    }
    bucket_key_enabled = true # one data key per object batch: fewer KMS calls, lower cost
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "store" {
  bucket = aws_s3_bucket.store.id

  rule {
    id     = "expire-old-uploads"
    status = "Enabled"
    filter {
      prefix = local.uploads_prefix
    }
    expiration {
      days = var.upload_expiration_days
    }
  }

  rule {
    id     = "expire-old-compute-logs"
    status = "Enabled"
    filter {
      prefix = local.compute_logs_prefix
    }
    expiration {
      days = var.compute_log_expiration_days
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
    expiration {
      expired_object_delete_marker = true
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.store]
}

# Browsers upload deliveries straight to the bucket (the studio presigns each part of a
# multipart upload) and read the ETag of every part to complete it; they may do so only from the
# studio's origin. Downloads are presigned GETs, which need no CORS when opened as links.
resource "aws_s3_bucket_cors_configuration" "store" {
  count  = length(var.cors_allowed_origins) > 0 ? 1 : 0
  bucket = aws_s3_bucket.store.id
  cors_rule {
    id              = "studio-browser-uploads"
    allowed_methods = ["PUT"]
    allowed_origins = var.cors_allowed_origins
    allowed_headers = ["*"] # presigned parts carry content-type and checksum headers
    expose_headers  = ["ETag"]
    max_age_seconds = 3600
  }
}

# TLS only; and whatever bucket_policy_statements add: the shop's CDN reading published/*
# (modules/cdn). The bucket stays public-access-blocked: those name a service and the one
# distribution it acts for, which S3 does not count as public.
data "aws_iam_policy_document" "store" {
  source_policy_documents = length(var.bucket_policy_statements) == 0 ? [] : [
    jsonencode({ Version = "2012-10-17", Statement = var.bucket_policy_statements })
  ]
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.store.arn,
      "${aws_s3_bucket.store.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "store" {
  bucket     = aws_s3_bucket.store.id
  policy     = data.aws_iam_policy_document.store.json
  depends_on = [aws_s3_bucket_public_access_block.store]
}

# --- upload event queue ---------------------------------------------------------------------

# Messages that fail `max_receive_count` times (malformed events) move here for inspection.
resource "aws_sqs_queue" "upload_events_dlq" {
  name                      = "${var.bucket_name}-upload-events-dlq"
  message_retention_seconds = 1209600 # 14 days, the maximum
  kms_master_key_id         = aws_kms_key.store.arn
  tags                      = var.tags
}

resource "aws_sqs_queue" "upload_events" {
  name                       = "${var.bucket_name}-upload-events"
  visibility_timeout_seconds = var.visibility_timeout_seconds
  message_retention_seconds  = 345600 # 4 days
  kms_master_key_id          = aws_kms_key.store.arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.upload_events_dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
  tags = var.tags
}

# Only the upload queue may use the DLQ as its dead-letter target.
resource "aws_sqs_queue_redrive_allow_policy" "upload_events_dlq" {
  queue_url = aws_sqs_queue.upload_events_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.upload_events.arn]
  })
}

data "aws_iam_policy_document" "s3_to_sqs" {
  statement {
    sid       = "StoreBucketNotifications"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.upload_events.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.store.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "upload_events" {
  queue_url = aws_sqs_queue.upload_events.id
  policy    = data.aws_iam_policy_document.s3_to_sqs.json
}

resource "aws_s3_bucket_notification" "uploads" {
  bucket = aws_s3_bucket.store.id
  queue {
    queue_arn     = aws_sqs_queue.upload_events.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = local.uploads_prefix
    filter_suffix = var.upload_suffix
  }
  depends_on = [aws_sqs_queue_policy.upload_events]
}
