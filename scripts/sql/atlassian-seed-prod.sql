-- A small "PROD" data set for the tables in atlassian-schema.sql: what a restored PROD dump
-- looks like before the refresh rewrites it.

-- Jira (propertytype: 1 number, 5 string, 6 text)
INSERT INTO propertyentry (id, entity_name, entity_id, property_key, propertytype) VALUES
    (10000, 'jira.properties', 1, 'jira.title', 5),
    (10001, 'jira.properties', 1, 'jira.baseurl', 5),
    (10002, 'jira.properties', 1, 'jira.lf.top.bgcolour', 5),
    (10003, 'jira.properties', 1, 'jira.lf.top.textcolour', 5),
    (10004, 'jira.properties', 1, 'jira.mail.send.disabled', 1),
    (10005, 'jira.properties', 1, 'jira.alertheader', 6),
    (10006, 'jira.properties', 1, 'jira.alertheader.visibility', 5);
INSERT INTO propertystring (id, propertyvalue) VALUES
    (10000, 'Jira'),
    (10001, 'https://jira.example.com'),
    (10002, '#205081'),
    (10003, '#ffffff'),
    (10006, 'public');
INSERT INTO propertynumber (id, propertyvalue) VALUES (10004, 0);
INSERT INTO propertytext (id, propertyvalue) VALUES (10005, '');
INSERT INTO sequence_value_item (seq_name, seq_id) VALUES ('OSPropertyEntry', 10100);

-- Confluence
INSERT INTO bandana (bandanaid, bandanacontext, bandanakey, bandanavalue) VALUES
    (1, '_GLOBAL', 'atlassian.confluence.settings', '<settings>
  <doNotSave>false</doNotSave>
  <allowCamelCase>false</allowCamelCase>
  <baseUrl>https://confluence.example.com</baseUrl>
  <siteTitle>Confluence</siteTitle>
  <emailAddressVisibility>email.address.public</emailAddressVisibility>
  <customHtmlSettings>
    <beforeHeadEnd></beforeHeadEnd>
    <afterBodyStart></afterBodyStart>
    <beforeBodyEnd></beforeBodyEnd>
  </customHtmlSettings>
  <maxAttachmentSize>104857600</maxAttachmentSize>
</settings>');
