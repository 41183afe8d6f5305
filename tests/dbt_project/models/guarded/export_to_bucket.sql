{{ config(materialized='external', location='s3://raw/exports/orders.parquet', enabled=var('bypass', false)) }}
select * from {{ ref('stg_orders') }}
