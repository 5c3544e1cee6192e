"""The application: the command line, file and Kafka runs, the ops endpoint and logging."""
