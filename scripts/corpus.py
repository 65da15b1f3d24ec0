#!/usr/bin/env python3
"""Writes a deterministic corpus of Kubernetes manifests for benchmarks.

usage: scripts/corpus.py OBJECTS DIR

One multi-document file per application (10 objects: ServiceAccount,
ConfigMap, Deployment, Service, HPA, PDB, NetworkPolicy, Ingress, Role,
RoleBinding), 50 applications per namespace folder. Every 7th application
carries a defect a checker should report (a probe on an undeclared port, a
Service selector that matches nothing, a missing ConfigMap key, ...), so the
checkers do real work on findings too.
"""
import os
import sys

APP = """apiVersion: v1
kind: ServiceAccount
metadata:
  name: {app}
  namespace: {ns}
automountServiceAccountToken: false
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-config
  namespace: {ns}
data:
  LOG_LEVEL: info
  UPSTREAM: http://{peer}.{ns}.svc.cluster.local:8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  namespace: {ns}
  labels: {{app.kubernetes.io/name: {app}}}
spec:
  selector:
    matchLabels: {{app.kubernetes.io/name: {app}}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxUnavailable: 0, maxSurge: 1}}
  template:
    metadata:
      labels: {{app.kubernetes.io/name: {app}}}
    spec:
      serviceAccountName: {app}
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: {{type: RuntimeDefault}}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels: {{app.kubernetes.io/name: {app}}}
      containers:
        - name: app
          image: registry.example.com/team/{app}:1.{i}.0
          ports:
            - {{name: http, containerPort: 8080}}
          env:
            - name: LOG_LEVEL
              valueFrom:
                configMapKeyRef: {{name: {app}-config, key: {key}}}
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{memory: 256Mi}}
          readinessProbe:
            httpGet: {{path: /ready, port: {probe}}}
            periodSeconds: 5
          livenessProbe:
            httpGet: {{path: /healthz, port: http}}
            periodSeconds: 10
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {{drop: [ALL]}}
---
apiVersion: v1
kind: Service
metadata:
  name: {app}
  namespace: {ns}
spec:
  selector: {{app.kubernetes.io/name: {selector}}}
  ports:
    - {{name: http, port: 8080, targetPort: http}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {app}
  namespace: {ns}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {app}}}
  minReplicas: 2
  maxReplicas: 6
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {{type: Utilization, averageUtilization: 70}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {app}
  namespace: {ns}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {{app.kubernetes.io/name: {app}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {app}
  namespace: {ns}
spec:
  podSelector:
    matchLabels: {{app.kubernetes.io/name: {app}}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels: {{app.kubernetes.io/name: {peer}}}
      ports:
        - {{port: 8080, protocol: TCP}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {app}
  namespace: {ns}
spec:
  ingressClassName: nginx
  tls:
    - hosts: [{app}.example.com]
      secretName: {app}-tls
  rules:
    - host: {app}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {app}
                port: {{name: http}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {app}
  namespace: {ns}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    resourceNames: [{app}-config]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {app}
  namespace: {ns}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {app}}}
subjects:
  - {{kind: ServiceAccount, name: {app}, namespace: {ns}}}
"""

NAMESPACE = """apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:
    pod-security.kubernetes.io/enforce: restricted
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: {ns}
spec:
  podSelector: {{}}
  policyTypes: [Ingress]
"""

PER_APP = 10
PER_NAMESPACE = 50


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    total, out = int(sys.argv[1]), sys.argv[2]
    apps = max(1, total // PER_APP)
    for i in range(apps):
        n = i // PER_NAMESPACE
        ns = f"team-{n:03d}"
        folder = os.path.join(out, ns)
        if i % PER_NAMESPACE == 0:
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "namespace.yaml"), "w") as f:
                f.write(NAMESPACE.format(ns=ns))
        app = f"app-{i:06d}"
        peer = f"app-{(i + 1) if (i + 1) % PER_NAMESPACE else i - PER_NAMESPACE + 1:06d}"
        defect = i % 7 == 3
        text = APP.format(
            app=app,
            ns=ns,
            i=i,
            peer=peer,
            key="LOG_LEVLE" if defect else "LOG_LEVEL",
            probe=8081 if defect else "http",
            selector=f"{app}-typo" if defect else app,
        )
        with open(os.path.join(folder, f"{app}.yaml"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
