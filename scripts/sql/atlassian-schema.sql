-- The tables Atlas Relay reads and writes in a restored Jira or Confluence database, with the
-- names, columns and types the products create on PostgreSQL (Jira's OFBiz entity model,
-- Confluence's Hibernate mapping). Shared by the tests and the sandbox: they run it inside a
-- schema of their own (search_path), then load the seed below.

-- Jira: application properties (OSProperty) -------------------------------------------------
CREATE TABLE IF NOT EXISTS propertyentry (
    id numeric(18, 0) NOT NULL PRIMARY KEY,
    entity_name varchar(255),
    entity_id numeric(18, 0),
    property_key varchar(255),
    propertytype numeric(9, 0)
);
CREATE INDEX IF NOT EXISTS osproperty_all ON propertyentry (entity_id);
CREATE INDEX IF NOT EXISTS osproperty_entityname ON propertyentry (entity_name);
CREATE INDEX IF NOT EXISTS osproperty_propertykey ON propertyentry (property_key);

CREATE TABLE IF NOT EXISTS propertystring (
    id numeric(18, 0) NOT NULL PRIMARY KEY,
    propertyvalue text
);
CREATE TABLE IF NOT EXISTS propertynumber (
    id numeric(18, 0) NOT NULL PRIMARY KEY,
    propertyvalue numeric(18, 0)
);
CREATE TABLE IF NOT EXISTS propertytext (
    id numeric(18, 0) NOT NULL PRIMARY KEY,
    propertyvalue text
);

-- Jira: OFBiz id allocation; Jira hands out ids in blocks of 100 above seq_id.
CREATE TABLE IF NOT EXISTS sequence_value_item (
    seq_name varchar(60) NOT NULL PRIMARY KEY,
    seq_id numeric(18, 0)
);

-- Confluence: global and space settings (XStream XML in bandanavalue) -------------------------
CREATE TABLE IF NOT EXISTS bandana (
    bandanaid numeric(19, 0) NOT NULL PRIMARY KEY,
    bandanacontext varchar(255),
    bandanakey varchar(100),
    bandanavalue text
);
CREATE INDEX IF NOT EXISTS bandana_key_idx ON bandana (bandanakey);

-- Confluence: Hibernate's hi/lo id allocation; ids come in blocks of 32,768 from next_hi.
CREATE TABLE IF NOT EXISTS hibernate_unique_key (
    next_hi integer
);
