#!/usr/bin/env bash
echo "models: not yet"
