{{/* Labels of every object; pod selectors keep app/component only (selectors are immutable). */}}
{{- define "kubefay.labels" -}}
app.kubernetes.io/name: kubefay
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "kubefay.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The address probes reach a server bound to bindAddress on (host network). */}}
{{- define "kubefay.probeHost" -}}
{{- if has . (list "0.0.0.0" "::" "") }}127.0.0.1{{ else }}{{ . }}{{ end }}
{{- end }}

{{/* host:port, with brackets around an IPv6 host. */}}
{{- define "kubefay.hostPort" -}}
{{- $h := index . 0 }}{{ if contains ":" $h }}[{{ $h }}]{{ else }}{{ $h }}{{ end }}:{{ index . 1 }}
{{- end }}
