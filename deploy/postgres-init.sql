-- One database per service, as in production.
CREATE DATABASE intake;
CREATE DATABASE adapter;
