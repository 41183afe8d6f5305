{#- One batch per day; dbt filters ref('events') to each batch by the seed's event_time. dbt runs
    the batches between the first and the last side by side, on the threads free at the time: the
    refs below make this model wait for every other one, so that they all run concurrently. -#}
-- depends_on: {{ ref('customers_delete_insert') }}, {{ ref('events_delete_insert_composite') }}
-- depends_on: {{ ref('customers_merge') }}, {{ ref('customers_merge_update_columns') }}
-- depends_on: {{ ref('customers_merge_exclude_columns') }}, {{ ref('daily_spend_merge_composite') }}
-- depends_on: {{ ref('events_append') }}, {{ ref('customers_snapshot_timestamp') }}
-- depends_on: {{ ref('customers_snapshot_check') }}
{{ config(incremental_strategy='microbatch', event_time='event_at', batch_size='day', begin='2026-03-01') }}
select event_id, customer_id, event_at, amount
from {{ ref('events') }}
