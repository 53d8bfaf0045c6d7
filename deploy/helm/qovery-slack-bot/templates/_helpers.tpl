{{/*
The chart's name, and the objects' name: <release>-<chart>, or the release's name alone when it
already contains the chart's. Kubernetes names stop at 63 characters.
*/}}
{{- define "qovery-slack-bot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "qovery-slack-bot.fullname" -}}
{{- $name := include "qovery-slack-bot.name" . -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The labels that pick the release's pods; they never change after install. */}}
{{- define "qovery-slack-bot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "qovery-slack-bot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "qovery-slack-bot.labels" -}}
{{ include "qovery-slack-bot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/*
"true" when the state is in PostgreSQL (several replicas, no volume), "" for one replica on a
volume.
*/}}
{{- define "qovery-slack-bot.replicasMode" -}}
{{- if or .Values.database.url .Values.database.existingSecret -}}true{{- end -}}
{{- end -}}

{{/* The Secret holding the tokens: the user's, or the chart's. */}}
{{- define "qovery-slack-bot.tokensSecret" -}}
{{- .Values.secret.existingSecret | default (include "qovery-slack-bot.fullname" .) -}}
{{- end -}}

{{/* The Secret holding the database URL, and its key. */}}
{{- define "qovery-slack-bot.databaseSecret" -}}
{{- .Values.database.existingSecret | default (include "qovery-slack-bot.fullname" .) -}}
{{- end -}}

{{- define "qovery-slack-bot.databaseSecretKey" -}}
{{- if .Values.database.existingSecret -}}
{{- required "database.existingSecretKey: the key of database.existingSecret that holds the URL" .Values.database.existingSecretKey -}}
{{- else -}}
QOVERY_BOT_DATABASE_URL
{{- end -}}
{{- end -}}

{{/* The image: repository and tag (or digest) are required, as no image is published. */}}
{{- define "qovery-slack-bot.image" -}}
{{- $repo := required "image.repository is required: build the image from the repository's Dockerfile (docker build -t REGISTRY/qovery-slack-bot:TAG .), push it, and set image.repository=REGISTRY/qovery-slack-bot and image.tag=TAG" .Values.image.repository -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (required "image.tag is required (or image.digest): the tag of the image you built and pushed" .Values.image.tag | toString) -}}
{{- end -}}
{{- end -}}

{{/*
qovery-slack-bot.placeholder fails when a value is a placeholder copied from an example rather than
the real thing. Called with (list "the value's name" value "what else to do", "" for nothing).
*/}}
{{- define "qovery-slack-bot.placeholder" -}}
{{- $name := index . 0 -}}
{{- $value := index . 1 | toString -}}
{{- $upper := upper $value -}}
{{- /* The list of placeholderWords in placeholder.go, which the bot refuses at start-up. */ -}}
{{- range list "REPLACE_ME" "REPLACEME" "REPLACE-ME" "CHANGE_ME" "CHANGEME" "CHANGE-ME" "YOUR_TOKEN" "YOUR-TOKEN" "…" "..." -}}
{{- if contains . $upper -}}
{{- fail (printf "%s holds the placeholder %q: set the real value%s" $name . (index $ 2)) -}}
{{- end -}}
{{- end -}}
{{- if regexMatch "<.*>" $value -}}
{{- fail (printf "%s holds the placeholder %q: set the real value%s" $name "<…>" (index $ 2)) -}}
{{- end -}}
{{- end -}}

{{/* qovery-slack-bot.validate fails on values that would render a release that cannot work. */}}
{{- define "qovery-slack-bot.validate" -}}
{{- $v := .Values -}}
{{- if not $v.secret.existingSecret -}}
{{- $secretHint := ", or name a Secret you manage in secret.existingSecret" -}}
{{- $app := required "secret.slackAppToken is required (xapp-…), or name a Secret you manage in secret.existingSecret" $v.secret.slackAppToken -}}
{{- $bot := required "secret.slackBotToken is required (xoxb-…), or name a Secret you manage in secret.existingSecret" $v.secret.slackBotToken -}}
{{- $qov := required "secret.qoveryAPIToken is required, or name a Secret you manage in secret.existingSecret" $v.secret.qoveryAPIToken -}}
{{- include "qovery-slack-bot.placeholder" (list "secret.slackAppToken" $app $secretHint) -}}
{{- include "qovery-slack-bot.placeholder" (list "secret.slackBotToken" $bot $secretHint) -}}
{{- include "qovery-slack-bot.placeholder" (list "secret.qoveryAPIToken" $qov $secretHint) -}}
{{- if not (hasPrefix "xapp-" $app) -}}
{{- fail "secret.slackAppToken must be the app-level token, starting with xapp-" -}}
{{- end -}}
{{- if not (hasPrefix "xoxb-" $bot) -}}
{{- fail "secret.slackBotToken must be the bot token, starting with xoxb-" -}}
{{- end -}}
{{- end -}}
{{- if and $v.database.url $v.database.existingSecret -}}
{{- fail "database.url and database.existingSecret are both set: give the URL one way" -}}
{{- end -}}
{{- with $v.database.url -}}
{{- include "qovery-slack-bot.placeholder" (list "database.url" . ", or name a Secret you manage in database.existingSecret") -}}
{{- if not (or (hasPrefix "postgres://" .) (hasPrefix "postgresql://" .)) -}}
{{- fail "database.url must be a PostgreSQL URL: postgres://user:password@host:5432/dbname?sslmode=require" -}}
{{- end -}}
{{- end -}}
{{- range $k, $val := $v.config -}}
{{- if has $k (list "SLACK_APP_TOKEN" "SLACK_BOT_TOKEN" "QOVERY_API_TOKEN" "QOVERY_BOT_DATABASE_URL") -}}
{{- fail (printf "config.%s: a secret never goes into the ConfigMap; use the secret.* or database.* values" $k) -}}
{{- end -}}
{{- if has $k (list "QOVERY_BOT_HTTP_ADDR" "QOVERY_BOT_DATA_DIR") -}}
{{- fail (printf "config.%s is set by the chart (from httpPort and the mode); remove it" $k) -}}
{{- end -}}
{{- include "qovery-slack-bot.placeholder" (list (printf "config.%s" $k) $val "") -}}
{{- end -}}
{{- if include "qovery-slack-bot.replicasMode" . -}}
{{- $n := int $v.replicaCount -}}
{{- if or (lt $n 1) (gt $n 9) -}}
{{- fail (printf "replicaCount %d: want 1 to 9 (Slack allows 10 Socket Mode connections per app, and a rolling update adds one)" $n) -}}
{{- end -}}
{{- end -}}
{{- if le (int $v.terminationGracePeriodSeconds) 8 -}}
{{- fail "terminationGracePeriodSeconds must be above 8: the bot gives work in flight 8 s after SIGTERM" -}}
{{- end -}}
{{- end -}}
