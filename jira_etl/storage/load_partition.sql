-- Replace one connector-day with the contents of its Parquet file (run in a transaction).
-- Rows are matched by the day's window and by id, so a record whose `created` could not
-- be parsed still never duplicates on a re-run.
DELETE FROM audit_records
WHERE connector = $connector
  AND ((created >= $day_start AND created < $day_end)
       OR id IN (SELECT id FROM read_parquet($path)));

INSERT INTO audit_records
SELECT connector, id, created, summary, category, event_source, description, remote_address,
       author_account_id, author_key, object_item_id, object_item_name, object_item_type_name,
       object_item_parent_id, object_item_parent_name, changed_values, associated_items, raw, ingested_at
FROM read_parquet($path);

INSERT OR REPLACE INTO collected_partitions
SELECT $connector, $day, (SELECT count(*) FROM read_parquet($path)), now();
