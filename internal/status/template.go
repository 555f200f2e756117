package status

// pageHTML is the status page. It reloads itself with a meta refresh, so it
// needs no script and reads the same in a text browser.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{{.Refresh}}">
<title>confluence-kafka status</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #172b4d; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; min-width: 60%; }
th, td { text-align: left; padding: 6px 12px; border-bottom: 1px solid #dfe1e6; white-space: nowrap; }
th { background: #f4f5f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.state { font-weight: 600; }
.completed { color: #006644; } .crawling, .starting { color: #0747a6; }
.waiting { color: #974f0c; } .failed, .stopped { color: #bf2600; }
.small { color: #5e6c84; font-size: 12px; }
</style>
</head>
<body>
<h1>confluence-kafka</h1>
<p class="small">Updated {{.Now.Format "2006-01-02 15:04:05 MST"}}; this page reloads every {{.Refresh}}s.</p>
<h2>Sites</h2>
<table id="sites">
<tr><th>Site</th><th>State</th><th>Spaces</th><th>Pages</th><th>Rate</th><th>Last checkpoint</th><th>Breaker</th><th>Wait</th></tr>
{{- range .Sites}}
<tr class="site" data-site="{{.Name}}" data-state="{{.State}}">
<td>{{.Name}}{{if ne .Name .Identity}}<br><span class="small">{{.Identity}}</span>{{end}}</td>
<td class="state {{.State}}">{{.State}}{{if .Resumed}} (resumed){{end}}</td>
<td class="num spaces">{{spaces .}}</td>
<td class="num pages">{{.Pages}}</td>
<td class="num">{{rate .PagesPerSecond}}</td>
<td>{{ago $.Now .LastCheckpoint}}</td>
<td class="breaker">{{.Breaker}}</td>
<td class="wait">{{if .Wait}}{{.Wait}}{{else if .Error}}{{.Error}}{{else}}-{{end}}</td>
</tr>
{{- else}}
<tr><td colspan="8">No site yet.</td></tr>
{{- end}}
</table>
<h2>Consumer lag</h2>
{{- if .LagErr}}<p class="small">Lag unavailable: {{.LagErr}}</p>{{end}}
<table id="lag">
<tr><th>Group</th><th>Topic</th><th>Partition</th><th>Committed</th><th>End</th><th>Lag</th></tr>
{{- range .Lag}}
<tr><td>{{.Group}}</td><td>{{.Topic}}</td><td class="num">{{.Partition}}</td><td class="num">{{.Committed}}</td><td class="num">{{.End}}</td><td class="num lag">{{.Lag}}</td></tr>
{{- else}}
<tr><td colspan="6">No consumer offsets yet.</td></tr>
{{- end}}
</table>
</body>
</html>
`
