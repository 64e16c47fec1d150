DROP TABLE stream_tickets;
DROP TABLE mutes;
DROP TABLE notification_settings;
DROP TABLE notifications;
