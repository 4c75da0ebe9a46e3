# IRSA role of the CloudWatch exporter (deploy/monitoring/values-cloudwatch-exporter.yaml), which
# turns the upload queues' CloudWatch metrics into the aws_sqs_* series the alerts read. It may
# only read metrics, in this environment's region. CloudWatch has no resource-level permissions
# for reading metrics (GetMetricData, GetMetricStatistics, ListMetrics accept only "*"), so this is
# the module's one wildcard resource; tag:GetResources is left out (the exporter's config selects
# queues by name, not by tag).

data "aws_region" "current" {}

resource "aws_iam_role" "cloudwatch_exporter" {
  name                 = var.cloudwatch_exporter_role_name
  description          = "IRSA role of ${var.cloudwatch_exporter_namespace}/${var.cloudwatch_exporter_service_account} (CloudWatch exporter: read metrics)"
  assume_role_policy   = data.aws_iam_policy_document.assume["cloudwatch_exporter"].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "cloudwatch_exporter" {
  statement {
    sid = "ReadCloudWatchMetrics"
    actions = [
      "cloudwatch:GetMetricData",
      "cloudwatch:GetMetricStatistics",
      "cloudwatch:ListMetrics",
    ]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [data.aws_region.current.name]
    }
  }
}

resource "aws_iam_role_policy" "cloudwatch_exporter" {
  name   = "shazam-cloudwatch-metrics-read"
  role   = aws_iam_role.cloudwatch_exporter.id
  policy = data.aws_iam_policy_document.cloudwatch_exporter.json
}
