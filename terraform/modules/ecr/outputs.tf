output "repository_url" {
  description = "Registry/repository to push to (values.yaml image.repository)."
  value       = aws_ecr_repository.this.repository_url
}

output "repository_arn" {
  description = "ARN of the repository."
  value       = aws_ecr_repository.this.arn
}
