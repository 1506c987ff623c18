# A backup archive is codenvy-SITE-<UTC stamp>-<version>.tar. The stamp's upper-case T and Z can never be part of
# a site name (a DNS label), so another site whose name starts with this one never matches. The same stamp as a
# shell pattern and as an extended regular expression:
ARCHIVE_STAMP_GLOB='[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z'
# shellcheck disable=SC2034 # a script that includes this may use only one of the two
ARCHIVE_STAMP_RE='[0-9]{8}T[0-9]{6}Z'
