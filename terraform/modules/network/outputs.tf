output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "Private subnets (one per zone): EKS nodes, the database, internal load balancers."
  value       = aws_subnet.private[*].id
}

output "private_subnet_cidrs" {
  description = "CIDRs of the private subnets (the database's; deploy/k8s/networkpolicies.yaml)."
  value       = aws_subnet.private[*].cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (one per zone): NAT gateways and internet-facing load balancers."
  value       = aws_subnet.public[*].id
}

output "public_subnet_cidrs" {
  description = "CIDRs of the public subnets: where an internet-facing ALB connects to its ip targets from."
  value       = aws_subnet.public[*].cidr_block
}

output "nat_public_ips" {
  description = "Elastic IPs the cluster's outbound traffic leaves from (for partner allow-lists)."
  value       = aws_eip.nat[*].public_ip
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint."
  value       = aws_vpc_endpoint.s3.id
}
