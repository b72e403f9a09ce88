"""The contract: the committed OpenAPI document and deployment files, a client generated from it,
and the Schemathesis fuzz with what it found."""
