// expect: syntax-error 2:16
<html><body>not a script</body></html>
