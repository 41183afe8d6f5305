{{ config(materialized='table', location='s3://raw/pinned/', s3_endpoint='http://10.0.0.9:9000', enabled=var('bypass', false)) }}
select 1 as x
