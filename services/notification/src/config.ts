export const NotificationConfig = {};
