// expect: syntax-error 2:8
{ "vus": 10, "duration": "30s" }
